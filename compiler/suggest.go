package compiler

import (
	"fmt"
	"slices"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

// suggest returns the candidate closest to name, or "" when none is close,
// with the distance HCL itself uses for "Did you mean". Ties go to the
// candidate closest in length: "arm46" suggests "arm64", not "arm".
func suggest(name string, candidates []string) string {
	best, bestDist, bestLen := "", 3, 0
	for _, c := range candidates {
		d := levenshtein.Distance(name, c, nil)
		l := abs(len(c) - len(name))
		if d < bestDist || (d == bestDist && best != "" && l < bestLen) {
			best, bestDist, bestLen = c, d, l
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// checkInputRefs reports references to undeclared variables and locals with
// a suggestion, before evaluation turns them into a vaguer error.
func (c *compilation) checkInputRefs(expr hcl.Expression, roots ...string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, trav := range c.variables(expr) {
		root := trav.RootName()
		if !slices.Contains(roots, root) {
			continue
		}
		var kind string
		var names []string
		switch root {
		case "var":
			kind = "input variable"
			for _, v := range c.spec.Variables {
				names = append(names, v.Name)
			}
		case "local":
			kind = "local value"
			for _, l := range c.spec.Locals {
				names = append(names, l.Name)
			}
		default:
			continue
		}
		name, rng := attrName(trav)
		if name == "" || slices.Contains(names, name) {
			continue
		}
		d := unknownRef(kind, root, name, names, rng)
		if kind == "input variable" {
			d.Detail += fmt.Sprintf(" Declare it with variable %q { ... }.", name)
		}
		diags = append(diags, d)
	}
	return diags
}

// variables returns the references in expr, walking each expression once:
// targets' expressions are read both to order evaluation and to check names.
func (c *compilation) variables(expr hcl.Expression) []hcl.Traversal {
	if t, ok := c.traversals[expr]; ok {
		return t
	}
	t := expr.Variables()
	c.traversals[expr] = t
	return t
}
