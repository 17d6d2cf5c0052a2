package compiler

import (
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// minRedacted is the shortest sensitive value searched for in diagnostic
// text. Shorter ones would blank out ordinary words of every message, and a
// secret that short protects nothing anyway (docs/guarantees.md says so).
const minRedacted = 4

// Sensitive collects the values of sensitive variables a compilation saw, as
// given (--var, environment, variable files) and as converted, so that
// what is printed about them can leave them out: the compiler redacts its
// own diagnostics with it, and a caller that prints source snippets masks
// the files with it.
type Sensitive struct {
	mu     sync.Mutex
	values map[string]bool
}

// add records v and the leaves of a structured value.
func (s *Sensitive) add(raw string) {
	if len(raw) < minRedacted {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]bool{}
	}
	s.values[raw] = true
	// The forms a message quotes it in: Go's %q and HCL's own strings.
	if q := strconv.Quote(raw); q[1:len(q)-1] != raw {
		s.values[q[1:len(q)-1]] = true
	}
}

func (s *Sensitive) addValue(v cty.Value) {
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsKnown() {
		return
	}
	switch {
	case v.Type() == cty.String:
		s.add(v.AsString())
	case v.Type() == cty.Number:
		s.add(v.AsBigFloat().Text('f', -1))
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if k.Type() == cty.String {
				s.add(k.AsString())
			}
			s.addValue(e)
		}
	}
}

// sorted returns the values longest first, so that a value containing
// another is replaced whole.
func (s *Sensitive) sorted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// Redact replaces every sensitive value in text.
func (s *Sensitive) Redact(text string) string {
	if s == nil {
		return text
	}
	return redact(s.sorted(), text)
}

// RedactDiagnostics redacts the summary and detail of each diagnostic.
func (s *Sensitive) RedactDiagnostics(diags hcl.Diagnostics) {
	if s == nil {
		return
	}
	vals := s.sorted()
	if len(vals) == 0 {
		return
	}
	for _, d := range diags {
		d.Summary = redact(vals, d.Summary)
		d.Detail = redact(vals, d.Detail)
	}
}

// redact replaces each of vals (longest first) in text.
func redact(vals []string, text string) string {
	for _, v := range vals {
		text = strings.ReplaceAll(text, v, "(sensitive value)")
	}
	return text
}

// MaskFiles returns copies of files whose bytes have every sensitive value
// overwritten by asterisks of the same length, for source snippets: the
// ranges of diagnostics stay valid, the values do not show.
func (s *Sensitive) MaskFiles(files map[string]*hcl.File) map[string]*hcl.File {
	vals := s.sorted()
	if len(vals) == 0 {
		return files
	}
	out := make(map[string]*hcl.File, len(files))
	for name, f := range files {
		b := string(f.Bytes)
		for _, v := range vals {
			b = strings.ReplaceAll(b, v, strings.Repeat("*", len(v)))
		}
		out[name] = &hcl.File{Body: f.Body, Bytes: []byte(b), Nav: f.Nav}
	}
	return out
}
