package compiler

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/bakeplan/bakeplan/spec"
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

// checkInputRefs reports references (an expression's, as exprVariables
// finds them) to undeclared variables and locals with
// a suggestion, before evaluation turns them into a vaguer error.
func (c *compilation) checkInputRefs(refs []hcl.Traversal, roots ...string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, trav := range refs {
		root := trav.RootName()
		if !slices.Contains(roots, root) {
			continue
		}
		var kind string
		switch root {
		case "var":
			kind = "input variable"
		case "local":
			kind = "local value"
		default:
			continue
		}
		name, rng := attrName(trav)
		if name == "" {
			continue
		}
		// Every reference of every target passes here: the names are
		// listed only for one that is not declared.
		ok, names := c.declared(root, name)
		if ok {
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

// declared says whether name is declared under root (var or local) and,
// when it is not, lists the names that are.
func (c *compilation) declared(root, name string) (bool, []string) {
	all := func(yield func(string) bool) {
		if root == "var" {
			for _, v := range c.spec.Variables {
				if !yield(v.Name) {
					return
				}
			}
			return
		}
		for _, l := range c.spec.Locals {
			if !yield(l.Name) {
				return
			}
		}
	}
	for n := range all {
		if n == name {
			return true, nil
		}
	}
	return false, slices.Collect(all)
}

// noSuch is HCL's message for an unknown name of a kind, with the closest
// of names (sorted first, so that a tie is decided the same every run).
func noSuch(kind, name string, names []string) string {
	slices.Sort(names)
	detail := fmt.Sprintf("There is no %s named %q.", kind, name)
	if s := suggest(name, names); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	}
	return detail
}

// explainUnknowns improves HCL's diagnostics for names it does not know:
// a bare variable or local name as bake writes it ("Did you mean
// var.GO_VERSION?"), local.* where locals cannot be read, and any other
// unknown name or function, whose suggestion must not depend on map order.
func (c *compilation) explainUnknowns(diags hcl.Diagnostics) {
	for _, d := range diags {
		switch d.Summary {
		case "Call to unknown function":
			// HCL suggests the first close name in map order, so one
			// mistake read differently run to run: suggest the closest.
			name, ok := quotedAfter(d.Detail, "There is no function named ")
			if !ok || strings.Contains(d.Detail, " in namespace ") {
				continue
			}
			d.Detail = noSuch("function", name, slices.Collect(maps.Keys(c.funcs)))
		case "Unknown variable":
			name, ok := quotedAfter(d.Detail, "There is no variable named ")
			if !ok {
				continue
			}
			switch {
			case name == "local":
				d.Detail = "Local values cannot be read here: variables (their defaults and validations) are resolved before locals, so they may read only var.NAME."
			case slices.ContainsFunc(c.spec.Variables, func(v *spec.Variable) bool { return v.Name == name }):
				d.Detail = fmt.Sprintf("There is no bare name %q; variables are read as var.NAME. Did you mean var.%s?", name, name)
			case slices.ContainsFunc(c.spec.Locals, func(l *spec.Local) bool { return l.Name == name }):
				d.Detail = fmt.Sprintf("There is no bare name %q; local values are read as local.NAME. Did you mean local.%s?", name, name)
			case d.EvalContext != nil:
				// As for functions: HCL's suggestion follows map order.
				var names []string
				for ctx := d.EvalContext; ctx != nil; ctx = ctx.Parent() {
					names = slices.AppendSeq(names, maps.Keys(ctx.Variables))
				}
				d.Detail = noSuch("variable", name, names)
			}
		}
	}
}

// quotedAfter returns the quoted string that follows prefix in s.
func quotedAfter(s, prefix string) (string, bool) {
	i := strings.Index(s, prefix)
	if i < 0 {
		return "", false
	}
	rest := s[i+len(prefix):]
	if !strings.HasPrefix(rest, `"`) {
		return "", false
	}
	end := strings.Index(rest[1:], `"`)
	if end < 0 {
		return "", false
	}
	return rest[1 : end+1], true
}
