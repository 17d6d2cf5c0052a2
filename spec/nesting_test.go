package spec_test

import (
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// TestNestingBound: input nested past the bound is a located diagnostic,
// not a stack overflow; brackets in strings and comments do not count.
func TestNestingBound(t *testing.T) {
	deep := func(open, close string, n int) string {
		return "locals {\n  x = " + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "\n}\n"
	}
	tests := []struct {
		name string
		src  string
		bad  bool
	}{
		{"parentheses at the bound", deep("(", ")", spec.MaxNesting-1), false},
		{"parentheses past it", deep("(", ")", 100000), true},
		{"lists past it", deep("[", "]", spec.MaxNesting+1), true},
		{"objects past it", deep("{a=", "}", spec.MaxNesting+1), true},
		{"template nesting past it", "locals {\n  x = " + strings.Repeat(`"${`, 1000) + "1" + strings.Repeat(`}"`, 1000) + "\n}\n", true},
		{"brackets in a string", "locals {\n  x = \"" + strings.Repeat("(", 5000) + "\"\n}\n", false},
		{"brackets in comments", "# " + strings.Repeat("[", 5000) + "\n// " + strings.Repeat("{", 5000) + "\n/* " + strings.Repeat("(", 5000) + " */\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := spec.Parse(hclparse.NewParser(), "bakeplan.hcl", []byte(tt.src))
			gotBad := false
			for _, d := range diags {
				if d.Summary == "Nesting too deep" {
					gotBad = true
					if d.Subject == nil || d.Subject.Start.Line != 2 {
						t.Errorf("located at %v, want line 2", d.Subject)
					}
				}
			}
			if gotBad != tt.bad {
				t.Errorf("nesting error: %v, want %v (%v)", gotBad, tt.bad, diags)
			}
		})
	}
	_, diags := spec.ParseVarFile(hclparse.NewParser(), "v.json", []byte(`{"x": `+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`))
	if !diags.HasErrors() || diags[0].Summary != "Nesting too deep" {
		t.Errorf("a deep JSON variable file: %v", diags)
	}
}
