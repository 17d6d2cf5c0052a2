package escape

import (
	"strings"
	"testing"
	"unicode"
)

func TestTerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain value", "plain value"},
		{`C:\path`, `C:\path`},
		{"\x1b[2Jx", `\x1b[2Jx`},
		{"a\nb\tc\r", `a\nb\tc\r`},
		{"back\\slash\n", `back\\slash\n`},
		{"\u202eevil", `\u202eevil`},
		{"\u009b31m", `\u009b31m`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"ünïcödé ok", "ünïcödé ok"},
	}
	for _, tt := range tests {
		if got := Terminal(tt.in); got != tt.want {
			t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct {
		fn       func(string) string
		in, want string
	}{
		{MarkdownText, "a|b", `a\|b`},
		{MarkdownText, "<!-- hide", "&lt;!-- hide"},
		{MarkdownText, "```\n", "\\`\\`\\`\\\\n"},
		{MarkdownText, "*x* [y](z)", `\*x\* \[y\](z)`},
		{MarkdownCode, "app", "`app`"},
		{MarkdownCode, "a`b", "``a`b``"},
		{MarkdownCode, "`x", "`` `x ``"},
		{MarkdownCode, "a|b", "`a\\|b`"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if f := Fence("x\n````\ny"); f != "`````" {
		t.Errorf("Fence = %q", f)
	}
	if f := Fence("plain"); f != "```" {
		t.Errorf("Fence = %q", f)
	}
}

// FuzzTerminal: whatever goes in, nothing that steers a terminal comes out,
// and the result is one line.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"", "x", "\x1b[31m", "a\nb", "\u202e", "\xff\xfe", "\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("Terminal(%q) = %q keeps %U", s, out, r)
			}
		}
		if md := MarkdownText(s); strings.ContainsAny(md, "<>\n") {
			t.Fatalf("MarkdownText(%q) = %q", s, md)
		}
	})
}

// TestSameWidth: unsafe bytes become '?' one for one, line breaks and tabs
// stay, and a safe text is returned as it is.
func TestSameWidth(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain\ttext\n", "plain\ttext\n"},
		{"a\x1b[2Jb", "a?[2Jb"},
		{"x\u202ey", "x???y"},
		{"bad\xffbyte\r\n", "bad?byte\r\n"},
	} {
		if got := string(SameWidth([]byte(c.in))); got != c.want || len(got) != len(c.in) {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}
