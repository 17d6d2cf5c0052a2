// Package views renders what commands report, for people and for machines:
// diagnostics as text (HCL's writer, with source snippets) or as versioned
// JSON. Commands choose a view; runtime packages return data.
package views

import (
	"encoding/json"
	"io"

	"github.com/bakeplan/bakeplan/internal/lines"
	"github.com/hashicorp/hcl/v2"
)

// FormatVersion versions the JSON views; it changes when a field changes
// meaning or goes away, not when one is added.
const FormatVersion = "1"

// Diagnostic is one problem, as JSON shows it (Terraform's shape).
type Diagnostic struct {
	Severity string `json:"severity"` // error or warning
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	Range    *Range `json:"range,omitempty"`
	// Snippet is the source line the range starts on.
	Snippet string `json:"snippet,omitempty"`
}

// Range is a span of a source file; lines and columns count from 1.
type Range struct {
	Filename string `json:"filename"`
	Start    Pos    `json:"start"`
	End      Pos    `json:"end"`
}

// Pos is a position in a file.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// Result is what validate prints with --json, and what every --json
// command prints instead of its output when it fails.
type Result struct {
	FormatVersion string       `json:"format_version"`
	Valid         bool         `json:"valid"`
	ErrorCount    int          `json:"error_count"`
	WarningCount  int          `json:"warning_count"`
	Diagnostics   []Diagnostic `json:"diagnostics"`
}

// NewResult converts diags, quoting source lines from files (which may be
// nil, or masked copies that hide sensitive values).
func NewResult(diags hcl.Diagnostics, files map[string]*hcl.File) Result {
	r := Result{FormatVersion: FormatVersion, Valid: !diags.HasErrors(), Diagnostics: []Diagnostic{}}
	for _, d := range diags {
		jd := Diagnostic{Severity: "warning", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagError {
			jd.Severity = "error"
			r.ErrorCount++
		} else {
			r.WarningCount++
		}
		if s := d.Subject; s != nil {
			jd.Range = &Range{
				Filename: s.Filename,
				Start:    Pos{Line: s.Start.Line, Column: s.Start.Column, Byte: s.Start.Byte},
				End:      Pos{Line: s.End.Line, Column: s.End.Column, Byte: s.End.Byte},
			}
			if f := files[s.Filename]; f != nil {
				start, end := lines.Span(f.Bytes, s.Start.Line)
				jd.Snippet = string(f.Bytes[start:end])
			}
		}
		r.Diagnostics = append(r.Diagnostics, jd)
	}
	return r
}

// ErrorResult is a failure that is not about a source location (a file
// that cannot be read, a builder that does not answer).
func ErrorResult(err error) Result {
	return Result{FormatVersion: FormatVersion, ErrorCount: 1, Diagnostics: []Diagnostic{{Severity: "error", Summary: err.Error()}}}
}

// WriteJSON writes v as indented JSON, HTML characters as they are.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
