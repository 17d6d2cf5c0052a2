package views

import (
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics writes diags the HCL way, with source snippets from
// files, made safe for a terminal: the summary and detail of each are
// escaped whole (a key that holds an escape sequence or a newline shows as
// \x1b or \n, and cannot forge a line), and each quoted source line has
// every byte that could move the cursor, reorder text or is not UTF-8
// replaced by "?" (byte for byte, so the underline still falls under the
// range it marks).
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	safeFiles := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		if f == nil {
			continue
		}
		c := *f
		c.Bytes = escape.SameWidth(f.Bytes)
		safeFiles[escape.Terminal(name)] = &c
	}
	safe := make(hcl.Diagnostics, len(diags))
	for i, d := range diags {
		c := *d
		c.Summary, c.Detail = escape.Terminal(d.Summary), escape.Terminal(d.Detail)
		c.Subject, c.Context = safeRange(d.Subject), safeRange(d.Context)
		safe[i] = &c
	}
	return hcl.NewDiagnosticTextWriter(w, safeFiles, 0, color).WriteDiagnostics(safe)
}

func safeRange(r *hcl.Range) *hcl.Range {
	if r == nil {
		return nil
	}
	c := *r
	c.Filename = escape.Terminal(r.Filename)
	return &c
}

// Message is an error's text for a terminal: each of its lines escaped, so
// that the lines bakeplan wrote stay lines and nothing in them can move the
// cursor or reorder text.
func Message(msg string) string {
	ls := strings.Split(msg, "\n")
	for i, l := range ls {
		ls[i] = escape.Terminal(l)
	}
	return strings.Join(ls, "\n")
}
