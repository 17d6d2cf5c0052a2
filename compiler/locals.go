package compiler

import (
	"fmt"
	"strings"

	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evalLocals evaluates locals in dependency order. Locals see variables,
// functions and each other, never targets, so they are all known before any
// target is evaluated.
func (c *compilation) evalLocals() hcl.Diagnostics {
	var diags hcl.Diagnostics
	byName := map[string]*spec.Local{}
	var names []string
	for _, l := range c.spec.Locals {
		byName[l.Name] = l
		names = append(names, l.Name)
	}
	vals := map[string]cty.Value{}
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var stack []string
	var visit func(l *spec.Local) bool
	visit = func(l *spec.Local) bool {
		switch state[l.Name] {
		case done:
			_, ok := vals[l.Name]
			return ok
		case visiting:
			i := 0
			for i < len(stack) && stack[i] != l.Name {
				i++
			}
			cycle := append(append([]string{}, stack[i:]...), l.Name)
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in local values",
				Detail:   fmt.Sprintf("local.%s refers to itself through %s.", l.Name, "local."+strings.Join(cycle, " -> local.")),
				Subject:  l.DeclRange.Ptr(),
			})
			return false
		}
		state[l.Name] = visiting
		stack = append(stack, l.Name)
		defer func() { stack = stack[:len(stack)-1]; state[l.Name] = done }()
		ok := true
		// The eval context holds only the locals this one refers to:
		// an object of all of them per local made a chain quadratic.
		refs := map[string]cty.Value{}
		for _, trav := range l.Expr.Variables() {
			switch trav.RootName() {
			case "target", "group", "builder", "registry":
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid reference in a local value",
					Detail:   fmt.Sprintf("Local values are computed before targets, builders and registries, so they cannot refer to %s.", trav.RootName()),
					Subject:  trav.SourceRange().Ptr(),
				})
				ok = false
			case "local":
				name, rng := attrName(trav)
				dep, found := byName[name]
				if !found {
					diags = append(diags, unknownRef("local value", "local", name, names, rng))
					ok = false
					continue
				}
				if !visit(dep) {
					ok = false
					continue
				}
				refs[name] = vals[name]
			}
		}
		if d := c.checkInputRefs(l.Expr, "var"); d.HasErrors() {
			diags = append(diags, d...)
			ok = false
		}
		if !ok {
			return false
		}
		v, d := l.Expr.Value(c.evalCtx(map[string]cty.Value{"local": cty.ObjectVal(refs)}))
		diags = append(diags, d...)
		if d.HasErrors() {
			return false
		}
		vals[l.Name] = v
		return true
	}
	for _, l := range c.spec.Locals {
		visit(l)
	}
	c.locObj = cty.ObjectVal(vals)
	return diags
}

// attrName returns the attribute a traversal takes from its root, such as
// "x" in local.x.y, with the range of root and attribute.
func attrName(trav hcl.Traversal) (string, hcl.Range) {
	if len(trav) < 2 {
		return "", trav.SourceRange()
	}
	switch a := trav[1].(type) {
	case hcl.TraverseAttr:
		return a.Name, hcl.RangeBetween(trav[0].SourceRange(), a.SrcRange)
	case hcl.TraverseIndex:
		if a.Key.Type() == cty.String && a.Key.IsKnown() && !a.Key.IsNull() {
			return a.Key.AsString(), hcl.RangeBetween(trav[0].SourceRange(), a.SrcRange)
		}
	}
	return "", trav.SourceRange()
}

func unknownRef(kind, root, name string, names []string, rng hcl.Range) *hcl.Diagnostic {
	detail := fmt.Sprintf("There is no %s named %q.", kind, name)
	if s := suggest(name, names); s != "" {
		detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Reference to undeclared %s", kind),
		Detail:   detail,
		Subject:  rng.Ptr(),
	}
}
