package spec

import (
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
	line, col, off := 1, 1, 0
	advance := func(n int) {
		off += n
		for _, c := range string(src[:n]) {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		src = src[n:]
	}
	for len(src) > 0 {
		c := src[0]
		switch {
		case c == '"':
			// A quoted string, with backslash escapes.
			i := 1
			for i < len(src) && src[i] != '"' && src[i] != '\n' {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			advance(min(i+1, len(src)))
			continue
		case c == '#' || (c == '/' && len(src) > 1 && src[1] == '/'):
			i := 0
			for i < len(src) && src[i] != '\n' {
				i++
			}
			advance(i)
			continue
		case c == '/' && len(src) > 1 && src[1] == '*':
			i := 2
			for i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/') {
				i++
			}
			advance(min(i+2, len(src)))
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
			if depth > MaxNesting {
				pos := hcl.Pos{Line: line, Column: col, Byte: off}
				return hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Nesting too deep",
					Detail:   fmt.Sprintf("Brackets, braces and parentheses nest more than %d levels deep here; bakeplan reads no deeper.", MaxNesting),
					Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: line, Column: col + 1, Byte: off + 1}},
				}}
			}
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
		_, size := utf8.DecodeRune(src)
		advance(size)
	}
	return nil
}
