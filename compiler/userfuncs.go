package compiler

import (
	"fmt"

	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// maxCallDepth bounds user function calls, which may call each other: a
// recursive definition becomes an error instead of a stack overflow.
const maxCallDepth = 64

// userFunctions makes a function.Function of each user function block.
// Bodies see var.*, their parameters and every function, including each other.
func (c *compilation) userFunctions(fns []*spec.Function) hcl.Diagnostics {
	var diags hcl.Diagnostics
	depth := 0
	for _, f := range fns {
		if _, ok := c.funcs[f.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Function name already taken",
				Detail:   fmt.Sprintf("%q is a built-in function; choose another name.", f.Name),
				Subject:  f.DeclRange.Ptr(),
			})
			continue
		}
		f := f
		params := make([]function.Parameter, len(f.Params))
		for i, p := range f.Params {
			params[i] = function.Parameter{Name: p, Type: cty.DynamicPseudoType, AllowNull: true, AllowMarked: true}
		}
		var variadic *function.Parameter
		if f.Variadic != "" {
			variadic = &function.Parameter{Name: f.Variadic, Type: cty.DynamicPseudoType, AllowNull: true, AllowMarked: true}
		}
		c.funcs[f.Name] = function.New(&function.Spec{
			Params:   params,
			VarParam: variadic,
			Type: func(args []cty.Value) (cty.Type, error) {
				// The result type is known only by evaluating the body.
				return cty.DynamicPseudoType, nil
			},
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				if depth >= maxCallDepth {
					return cty.DynamicVal, fmt.Errorf("function %s: calls nested deeper than %d; is it recursive?", f.Name, maxCallDepth)
				}
				depth++
				defer func() { depth-- }()
				vars := map[string]cty.Value{"var": c.varObj}
				for i, p := range f.Params {
					vars[p] = args[i]
				}
				if f.Variadic != "" {
					rest := args[len(f.Params):]
					if len(rest) == 0 {
						vars[f.Variadic] = cty.EmptyTupleVal
					} else {
						vars[f.Variadic] = cty.TupleVal(rest)
					}
				}
				v, d := f.Result.Value(&hcl.EvalContext{Variables: vars, Functions: c.funcs})
				if d.HasErrors() {
					return cty.DynamicVal, fmt.Errorf("function %s: %s", f.Name, d.Error())
				}
				return v, nil
			},
		})
	}
	return diags
}
