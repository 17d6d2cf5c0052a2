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
	le := &localsEval{c: c, byName: map[string]*spec.Local{}, vals: map[string]cty.Value{}, state: map[string]int{}}
	for _, l := range c.spec.Locals {
		le.byName[l.Name] = l
		le.names = append(le.names, l.Name)
	}
	for _, l := range c.spec.Locals {
		le.visit(l)
	}
	c.locObj = cty.ObjectVal(le.vals)
	return le.diags
}

// localsEval evaluates the locals, each after the ones it reads.
type localsEval struct {
	c      *compilation
	byName map[string]*spec.Local
	names  []string
	vals   map[string]cty.Value
	state  map[string]int // localVisiting, localDone
	stack  []string
	diags  hcl.Diagnostics
}

const (
	localVisiting = 1
	localDone     = 2
)

// visit evaluates l (after what it reads) and reports whether it has a
// value; a cycle is an error.
func (le *localsEval) visit(l *spec.Local) bool {
	switch le.state[l.Name] {
	case localDone:
		_, ok := le.vals[l.Name]
		return ok
	case localVisiting:
		i := 0
		for i < len(le.stack) && le.stack[i] != l.Name {
			i++
		}
		cycle := append(append([]string{}, le.stack[i:]...), l.Name)
		le.diags = append(le.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cycle in local values",
			Detail:   fmt.Sprintf("local.%s refers to itself through %s.", l.Name, "local."+strings.Join(cycle, " -> local.")),
			Subject:  l.DeclRange.Ptr(),
		})
		return false
	}
	le.state[l.Name] = localVisiting
	le.stack = append(le.stack, l.Name)
	defer func() { le.stack = le.stack[:len(le.stack)-1]; le.state[l.Name] = localDone }()
	refs, ok := le.refsOf(l)
	if d := le.c.checkInputRefs(exprVariables(l.Expr), "var"); d.HasErrors() {
		le.diags = append(le.diags, d...)
		ok = false
	}
	if !ok {
		return false
	}
	v, d := l.Expr.Value(le.c.evalCtx(map[string]cty.Value{"local": cty.ObjectVal(refs)}))
	le.diags = append(le.diags, d...)
	if d.HasErrors() {
		return false
	}
	le.vals[l.Name] = v
	return true
}

// refsOf evaluates the locals l reads and returns them, for its eval
// context, which holds only those: an object of all of them per local
// made a chain quadratic. false means one is missing or fails.
func (le *localsEval) refsOf(l *spec.Local) (map[string]cty.Value, bool) {
	ok := true
	refs := map[string]cty.Value{}
	for _, trav := range l.Expr.Variables() {
		switch trav.RootName() {
		case "target", "group", "builder", "registry":
			le.diags = append(le.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference in a local value",
				Detail:   fmt.Sprintf("Local values are computed before targets, builders and registries, so they cannot refer to %s.", trav.RootName()),
				Subject:  trav.SourceRange().Ptr(),
			})
			ok = false
		case "local":
			name, rng := attrName(trav)
			dep, found := le.byName[name]
			if !found {
				le.diags = append(le.diags, unknownRef("local value", "local", name, le.names, rng))
				ok = false
				continue
			}
			if !le.visit(dep) {
				ok = false
				continue
			}
			refs[name] = le.vals[name]
		}
	}
	return refs, ok
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
