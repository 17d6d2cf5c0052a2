package bakeimport

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// names are the blocks every file declares, which tell a bare name (a
// variable) and a string in inherits or targets (a target or a group)
// apart.
type names struct {
	vars    map[string]bool
	targets map[string]bool
	groups  map[string]bool
	// matrix: a target makes its names with a matrix, so a name no block
	// has may be one of them.
	matrix bool
	// values are the variables' values when importing: the
	// environment's, as bake reads it, else their defaults where those
	// are constant or built from other constant defaults; for reading a
	// computed name (inherits = ["test-${VARIANT}"]) as bake would here.
	values map[string]cty.Value
}

func collectNames(files []*source, env map[string]string) (*names, hcl.Diagnostics) {
	n := &names{vars: map[string]bool{}, targets: map[string]bool{}, groups: map[string]bool{}}
	var diags hcl.Diagnostics
	var defaults []*hclsyntax.Attribute
	for _, src := range files {
		// A block defined again in a later file is merged into the
		// earlier one by bakeplan's -f, as by bake's; within one file
		// bake merges it too, but one spec file cannot hold it twice.
		seen := map[string]hcl.Range{}
		declare := func(kind, name string, r hcl.Range, src *source) {
			key := kind + " " + name
			if prev, ok := seen[key]; ok {
				d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Block defined twice",
					Detail:  fmt.Sprintf("%s %q is also defined at %s in the same file. bake merges such blocks; move one into a file of its own (an override file), which import translates into a spec of its own that bakeplan merges with -f.", kind, name, prev),
					Subject: &r}
				diags = append(diags, src.remap(hcl.Diagnostics{d})...)
				return
			}
			seen[key] = r
		}
		for _, a := range sortedAttrs(src.body) {
			n.vars[a.Name] = true
			declare("variable", a.Name, a.NameRange, src)
			defaults = append(defaults, &hclsyntax.Attribute{Name: a.Name, Expr: a.Expr})
		}
		for _, b := range src.body.Blocks {
			if len(b.Labels) != 1 {
				continue
			}
			name := b.Labels[0]
			switch b.Type {
			case "variable":
				n.vars[name] = true
				d := b.Body.Attributes["default"]
				switch {
				case d != nil:
					defaults = append(defaults, &hclsyntax.Attribute{Name: name, Expr: d.Expr})
				case b.Body.Attributes["type"] != nil:
					// bake's value without a default: null when typed,
					// else "" (as import writes it).
					defaults = append(defaults, &hclsyntax.Attribute{Name: name, Expr: &hclsyntax.LiteralValueExpr{Val: cty.NullVal(cty.DynamicPseudoType)}})
				default:
					defaults = append(defaults, &hclsyntax.Attribute{Name: name, Expr: &hclsyntax.LiteralValueExpr{Val: cty.StringVal("")}})
				}
			case "target":
				n.targets[name] = true
				n.matrix = n.matrix || b.Body.Attributes["matrix"] != nil
			case "group":
				n.groups[name] = true
			default:
				continue
			}
			declare(b.Type, name, b.DefRange(), src)
			if b.Type != "variable" && !hclsyntax.ValidIdentifier(name) {
				r := b.LabelRanges[0]
				diags = append(diags, src.remap(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Name bakeplan cannot refer to",
					Detail:  fmt.Sprintf("%s %q cannot be written as %s.%s: a bakeplan name starts with a letter or _ and holds letters, digits, _ and -. Rename it in the bake file first.", b.Type, name, b.Type, name),
					Subject: &r}})...)
			}
		}
	}
	for i, a := range defaults {
		if v, ok := env[a.Name]; ok {
			defaults[i] = &hclsyntax.Attribute{Name: a.Name, Expr: &hclsyntax.LiteralValueExpr{Val: envValue(a.Expr, v)}}
		}
	}
	n.values = constDefaults(defaults)
	return n, diags
}

// maxDefaultPasses bounds how long a chain of defaults built from other
// defaults is followed, so a hostile file of thousands of chained
// variables costs linear time.
const maxDefaultPasses = 16

// constDefaults evaluates the defaults that need no function, over and
// over, so that a default built from others is found too.
func constDefaults(attrs []*hclsyntax.Attribute) map[string]cty.Value {
	out := map[string]cty.Value{}
	for pass := 0; pass < maxDefaultPasses; pass++ {
		grew := false
		for _, a := range attrs {
			if _, done := out[a.Name]; done {
				continue
			}
			v, d := a.Expr.Value(&hcl.EvalContext{Variables: out})
			if d.HasErrors() || !v.IsWhollyKnown() {
				continue
			}
			out[a.Name] = v
			grew = true
		}
		if !grew {
			break
		}
	}
	return out
}

// envValue is an environment variable's value for a variable whose
// default is def, typed as bake types it: a number or bool default makes
// it parsed so, when it parses.
func envValue(def hclsyntax.Expression, s string) cty.Value {
	v, d := def.Value(nil)
	if !d.HasErrors() && v.IsKnown() && !v.IsNull() {
		switch v.Type() {
		case cty.Number:
			if n, err := cty.ParseNumberVal(s); err == nil {
				return n
			}
		case cty.Bool:
			if b, err := strconv.ParseBool(s); err == nil {
				return cty.BoolVal(b)
			}
		}
	}
	return cty.StringVal(s)
}
