package compiler

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exprVariables is expr.Variables(): every root-scope traversal in expr, in
// the order HCL's walk finds them. Targets' expressions are mostly
// templates, lists and objects of literals, and HCL's generic walk (a
// closure and a slice of scopes per node) was a tenth of evaluating a large
// spec; this one descends those nodes directly. A node that opens a scope
// (for, splat) or that it does not know is handed to HCL, which is exact
// there because no scope is open above it.
func exprVariables(expr hcl.Expression) []hcl.Traversal {
	var out []hcl.Traversal
	addVariables(expr, &out)
	return out
}

func addVariables(expr hcl.Expression, out *[]hcl.Traversal) {
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
	case *hclsyntax.ScopeTraversalExpr:
		*out = append(*out, e.Traversal)
	case *hclsyntax.TemplateExpr:
		for _, p := range e.Parts {
			addVariables(p, out)
		}
	case *hclsyntax.TemplateWrapExpr:
		addVariables(e.Wrapped, out)
	case *hclsyntax.TupleConsExpr:
		for _, x := range e.Exprs {
			addVariables(x, out)
		}
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			addVariables(item.KeyExpr, out)
			addVariables(item.ValueExpr, out)
		}
	case *hclsyntax.ObjectConsKeyExpr:
		// A bare name is the key itself, not a reference (as HCL reads it).
		if hcl.ExprAsKeyword(e.Wrapped) == "" {
			addVariables(e.Wrapped, out)
		}
	case *hclsyntax.FunctionCallExpr:
		for _, a := range e.Args {
			addVariables(a, out)
		}
	case *hclsyntax.ParenthesesExpr:
		addVariables(e.Expression, out)
	case *hclsyntax.ConditionalExpr:
		addVariables(e.Condition, out)
		addVariables(e.TrueResult, out)
		addVariables(e.FalseResult, out)
	case *hclsyntax.BinaryOpExpr:
		addVariables(e.LHS, out)
		addVariables(e.RHS, out)
	case *hclsyntax.UnaryOpExpr:
		addVariables(e.Val, out)
	case *hclsyntax.IndexExpr:
		addVariables(e.Collection, out)
		addVariables(e.Key, out)
	case *hclsyntax.RelativeTraversalExpr:
		addVariables(e.Source, out)
	default:
		*out = append(*out, expr.Variables()...)
	}
}
