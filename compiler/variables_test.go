package compiler

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
		src := randomExpr(rng, 4)
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

// randomExpr writes an expression of depth at most d that uses every
// kind of node, names that are references and names that are local to a
// for or a splat.
func randomExpr(rng *rand.Rand, d int) string {
	names := []string{"var.a", "local.b", "target.app.tags", "x", "k", "v", "each.value", "m"}
	leaf := func() string {
		switch rng.IntN(5) {
		case 0:
			return fmt.Sprintf("%q", "lit")
		case 1:
			return fmt.Sprint(rng.IntN(9))
		case 2:
			return "null"
		}
		return names[rng.IntN(len(names))]
	}
	if d == 0 {
		return leaf()
	}
	sub := func() string { return randomExpr(rng, d-1) }
	switch rng.IntN(18) {
	case 0:
		return fmt.Sprintf("\"a-${%s}-b\"", sub())
	case 1:
		return fmt.Sprintf("\"${%s}\"", sub())
	case 2:
		return fmt.Sprintf("[%s, %s]", sub(), sub())
	case 3:
		return fmt.Sprintf("{ k = %s, %s = %s, (x) = 1, \"q\" = %s }", sub(), names[rng.IntN(len(names))], sub(), sub())
	case 4:
		return fmt.Sprintf("upper(%s, %s)", sub(), sub())
	case 5:
		return fmt.Sprintf("(%s)", sub())
	case 6:
		return fmt.Sprintf("%s ? %s : %s", sub(), sub(), sub())
	case 7:
		return fmt.Sprintf("%s + %s", sub(), sub())
	case 8:
		return fmt.Sprintf("!%s", sub())
	case 9:
		return fmt.Sprintf("%s[%s]", names[rng.IntN(len(names))], sub())
	case 10:
		return fmt.Sprintf("[for k, v in %s : %s if %s]", sub(), sub(), sub())
	case 11:
		return fmt.Sprintf("{for x in %s : x => %s}", sub(), sub())
	case 12:
		return fmt.Sprintf("%s[*].name", names[rng.IntN(len(names))])
	case 13:
		return fmt.Sprintf("(%s).attr[0]", sub())
	case 14:
		return fmt.Sprintf("\"%%{ for x in %s }${x}${%s}%%{ endfor }\"", sub(), sub())
	case 15:
		return fmt.Sprintf("\"%%{ if %s }y%%{ else }${%s}%%{ endif }\"", sub(), sub())
	case 16:
		return fmt.Sprintf("-%s", sub())
	}
	return leaf()
}
