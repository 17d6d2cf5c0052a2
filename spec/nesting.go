package spec

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxNesting bounds how deeply brackets, braces and parentheses may nest in
// a spec, a variable file or a value given on the command line. HCL's
// parsers and evaluator recurse once per level, so a 200 KB file of
// parentheses ended the process with a stack overflow; no real spec comes
// near this depth.
const MaxNesting = 500

// CheckNesting scans src for nesting deeper than MaxNesting before any
// parser sees it, skipping quoted strings and comments. The scan is a
// bound, not a parser: it only has to be cheap, linear and never smaller
// than the true depth of what HCL would recurse into.
func CheckNesting(src []byte, filename string) hcl.Diagnostics {
	depth := 0
	for off := 0; off < len(src); {
		c := src[off]
		switch {
		case c == '"':
			// A quoted string, with backslash escapes.
			i := off + 1
			for i < len(src) && src[i] != '"' && src[i] != '\n' {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			off = min(i+1, len(src))
			continue
		case c == '#' || (c == '/' && off+1 < len(src) && src[off+1] == '/'):
			if i := bytes.IndexByte(src[off:], '\n'); i >= 0 {
				off += i
			} else {
				off = len(src)
			}
			continue
		case c == '/' && off+1 < len(src) && src[off+1] == '*':
			if i := bytes.Index(src[off+2:], []byte("*/")); i >= 0 {
				off += 2 + i + 2
			} else {
				off = len(src)
			}
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
			if depth > MaxNesting {
				return tooDeep(src, off, filename)
			}
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
		if c < utf8.RuneSelf {
			off++
		} else {
			_, size := utf8.DecodeRune(src[off:])
			off += size
		}
	}
	return nil
}

// tooDeep is the diagnostic for the bracket at off. Its line and column
// are counted only now: the scan itself need not track them.
func tooDeep(src []byte, off int, filename string) hcl.Diagnostics {
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	col := 1 + utf8.RuneCount(src[bytes.LastIndexByte(src[:off], '\n')+1:off])
	pos := hcl.Pos{Line: line, Column: col, Byte: off}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Nesting too deep",
		Detail:   fmt.Sprintf("Brackets, braces and parentheses nest more than %d levels deep here; bakeplan reads no deeper.", MaxNesting),
		Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: off + 1}},
	}}
}
