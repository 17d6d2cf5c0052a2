package spec

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// TestCheckNestingMatchesLineTracking proves CheckNesting, which counts a
// problem's line and column only when it finds one, by difference with
// the scan it replaced, which tracked them at every byte: the same verdict
// and the same position on generated text (fixed seed) of brackets,
// strings, escapes, comments, newlines and multi-byte and invalid UTF-8.
func TestCheckNestingMatchesLineTracking(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 0))
	parts := []string{"(", "[", "{", ")", "]", "}", "\"", "\\", "\\\"", "#", "//", "/*", "*/", "\n", "\r\n", "a", " ", "é", "→", "\xff", "\xe2\x82", "${", "}"}
	found := 0
	for i := range 4000 {
		var b strings.Builder
		n := rng.IntN(400)
		if i%4 == 0 {
			b.WriteString(strings.Repeat("(", MaxNesting-rng.IntN(5)))
		}
		for range n {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		src := []byte(b.String())
		got, want := CheckNesting(src, "f.hcl"), checkNestingByLine(src, "f.hcl")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d %q:\n got  %v\n want %v", i, src, got, want)
		}
		if got.HasErrors() {
			found++
		}
	}
	if found < 100 {
		t.Errorf("only %d of the cases nest too deep", found)
	}
}

func checkNestingByLine(src []byte, filename string) hcl.Diagnostics {
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
