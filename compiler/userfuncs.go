package compiler

import (
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// maxCallDepth bounds user function calls, which may call each other: a
// recursive definition becomes an error instead of a stack overflow.
const maxCallDepth = 64

// userFunctions makes a function.Function of each user function block.
// Bodies see var.*, local.* (once the locals are known: from targets, not
// from the locals themselves), their parameters and every function,
// including each other.
func (c *compilation) userFunctions(fns []*spec.Function) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var declared []*spec.Function
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
		declared = append(declared, f)
	}
	if len(declared) > 0 {
		t := &funcTables{c: c, builtin: c.funcs, fns: declared}
		c.funcs = t.at(0)
	}
	return diags
}

// funcTables holds one function table per call depth: a user function
// called at depth d evaluates its body with the table of depth d+1, and at
// maxCallDepth it fails. Depth lives in which table a closure belongs to,
// not in a counter, so targets can be evaluated concurrently.
type funcTables struct {
	c       *compilation
	builtin map[string]function.Function
	fns     []*spec.Function

	mu     sync.Mutex
	tables []map[string]function.Function
}

// at returns the table for depth, building it on first use.
func (t *funcTables) at(depth int) map[string]function.Function {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.tables) <= depth {
		t.tables = append(t.tables, nil)
	}
	if t.tables[depth] == nil {
		table := maps.Clone(t.builtin)
		for _, f := range t.fns {
			table[f.Name] = t.function(f, depth)
		}
		t.tables[depth] = table
	}
	return t.tables[depth]
}

func (t *funcTables) function(f *spec.Function, depth int) function.Function {
	params := make([]function.Parameter, len(f.Params))
	for i, p := range f.Params {
		params[i] = function.Parameter{Name: p, Type: cty.DynamicPseudoType, AllowNull: true, AllowMarked: true}
	}
	var variadic *function.Parameter
	if f.Variadic != "" {
		variadic = &function.Parameter{Name: f.Variadic, Type: cty.DynamicPseudoType, AllowNull: true, AllowMarked: true}
	}
	return function.New(&function.Spec{
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
			vars := map[string]cty.Value{"var": t.c.varObj}
			if t.c.locObj != cty.NilVal {
				vars["local"] = t.c.locObj
			} else if readsRoot(f.Result, "local") {
				return cty.DynamicVal, fmt.Errorf("function %s reads local values, so a local value cannot call it: the locals are not known yet", f.Name)
			}
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
			v, d := f.Result.Value(&hcl.EvalContext{Variables: vars, Functions: t.at(depth + 1)})
			if d.HasErrors() {
				// cty adds its own full stop after the message.
				return cty.DynamicVal, fmt.Errorf("function %s: %s", f.Name, strings.TrimSuffix(d.Error(), "."))
			}
			return v, nil
		},
	})
}

func readsRoot(expr hcl.Expression, root string) bool {
	for _, trav := range expr.Variables() {
		if trav.RootName() == root {
			return true
		}
	}
	return false
}
