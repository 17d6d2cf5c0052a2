package views

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

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
		c.Bytes = sameWidth(f.Bytes)
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

// sameWidth is src with each byte of an unsafe character (a control other
// than newline and tab, a bidirectional or other format character, a byte
// that is not UTF-8) replaced by '?'. It returns src itself when there is
// none.
func sameWidth(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		bad := (r == utf8.RuneError && n == 1) || (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f ||
			(r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
		if bad {
			if out == nil {
				out = append([]byte(nil), src...)
			}
			for k := range n {
				out[i+k] = '?'
			}
		}
		i += n
	}
	if out == nil {
		return src
	}
	return out
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
