package compiler

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/hclgen"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestExprVariablesMatchHCL proves exprVariables by difference with HCL's
// own walk: the same traversals, in the same order, with the same ranges,
// for generated expressions (fixed seed) of every kind, nested, with local
// scopes (for, splat) inside and around references, and for every
// attribute of every spec in the repository.
func TestExprVariablesMatchHCL(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 24))
	kinds := map[string]int{}
	for i := range 5000 {
		src := hclgen.Expr(rng, 4)
		expr, diags := hclsyntax.ParseExpression([]byte(src), "x.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("case %d: the generator wrote %q: %s", i, src, diags)
		}
		kinds[fmt.Sprintf("%T", expr)]++
		compareVariables(t, src, expr)
	}
	if len(kinds) < 10 {
		t.Errorf("the generator made only %v at the top", kinds)
	}
	files, _ := filepath.Glob("../examples/*/*.hcl")
	more, _ := filepath.Glob("../cmd/bakeplan/testdata/*/*.hcl")
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("only %d spec files found", len(files))
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if diags.HasErrors() {
			continue // a spec that is meant not to parse
		}
		_ = hclsyntax.VisitAll(f.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
			if a, ok := n.(*hclsyntax.Attribute); ok {
				compareVariables(t, name+": "+a.Name, a.Expr)
			}
			return nil
		})
	}
}

func compareVariables(t *testing.T, what string, expr hclsyntax.Expression) {
	t.Helper()
	want := hclsyntax.Variables(expr)
	got := exprVariables(expr)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, describe(got), describe(want))
	}
}

func describe(ts []hcl.Traversal) string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s@%s", t.RootName(), t.SourceRange()))
	}
	return strings.Join(out, ", ")
}
