// Package escape makes values from a spec safe to show: on a terminal, where
// an escape sequence in a label key could rewrite the screen, and in
// Markdown, where a code fence or an HTML comment in an argument could hide
// the rest of a pull-request comment. Every view escapes every value it did
// not write itself.
package escape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s with every character that could move the cursor, change
// colours or reorder text (control characters, including newlines and tabs,
// and Unicode bidirectional and invisible format characters) written as a
// visible escape such as \x1b, \n or \u202e. Backslashes are doubled only
// when s needs escaping at all, so ordinary values read as they are.
func Terminal(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, width := utf8.DecodeRuneInString(s[i:])
		w = width
		switch {
		case r == utf8.RuneError && width == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i, w := 0, 0; i < len(s); i += w {
		r, width := utf8.DecodeRuneInString(s[i:])
		w = width
		if unsafeAt(r, width) {
			return true
		}
	}
	return false
}

// unsafeAt says whether r, decoded from width bytes, must not reach a
// terminal as it is: a byte that is not UTF-8, a control character, or
// an unsafe rune.
func unsafeAt(r rune, width int) bool {
	return (r == utf8.RuneError && width == 1) || r < 0x20 || r == 0x7f || unsafeRune(r)
}

// SameWidth is src with each byte of every character Terminal would
// escape, but newlines, tabs and carriage returns, replaced by '?': for
// quoting source text, whose byte offsets must stay where they were (an
// underline beneath a range). It returns src itself when there is none.
func SameWidth(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if unsafeAt(r, n) && r != '\n' && r != '\t' && r != '\r' {
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

// unsafeRune: C1 controls, and format characters (Cf: bidirectional
// overrides, zero-width joiners, the BOM) that change how a line reads
// without showing themselves.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
}

// TerminalArgs escapes, in place, every string among a format's arguments:
// a view's format holds its structure and the arguments hold data, which
// must stay on one visible line.
func TerminalArgs(args []any) []any {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = Terminal(s)
		}
	}
	return args
}

// MarkdownText returns s as inline Markdown text that renders as exactly
// those characters, on one line, and cannot end a table cell: every
// character Markdown or HTML gives a meaning is escaped.
func MarkdownText(s string) string {
	s = Terminal(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '|':
			b.WriteString(`\|`)
		case '\\', '`', '*', '_', '[', ']', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MarkdownCode returns s as an inline code span, safe inside a table cell:
// the span's backtick run is longer than any in s, and pipes are escaped
// (GitHub splits cells on them even inside code).
func MarkdownCode(s string) string {
	s = strings.ReplaceAll(Terminal(s), "|", `\|`)
	ticks := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || s == "" {
		s = " " + s + " "
	}
	return ticks + s + ticks
}

// mermaid writes the characters that could end or mark up a quoted Mermaid
// label as Mermaid's entity codes.
var mermaid = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;", "`", "#96;")

// Mermaid returns s for a quoted Mermaid label (a node's, or an edge's): on
// one line, unable to end the label or add markup.
func Mermaid(s string) string { return mermaid.Replace(Terminal(s)) }

// Fence returns a code fence that no line of body can close: backticks, one
// more than body's longest run of them, and at least three.
func Fence(body string) string {
	n := longestRun(body, '`') + 1
	if n < 3 {
		n = 3
	}
	return strings.Repeat("`", n)
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			if run > longest {
				longest = run
			}
		} else {
			run = 0
		}
	}
	return longest
}
