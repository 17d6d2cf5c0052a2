package compiler

import (
	"errors"
	"path"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// bakeOwnFunctions are functions docker buildx bake adds to HCL's, with
// bake's behaviour (buildx v0.38.2, bake/hclparser/stdlib.go), so that bake
// files read the same here. home is HOME, for homedir.
func bakeOwnFunctions(home string) map[string]function.Function {
	return map[string]function.Function{
		"indexof":  indexOfFunc,
		"basename": stringFunc("path", total(path.Base)),
		"dirname":  stringFunc("path", total(path.Dir)),
		"sanitize": stringFunc("name", total(sanitize)),
		"homedir": function.New(&function.Spec{
			Type: function.StaticReturnType(cty.String),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				if home == "" {
					return cty.NilVal, errors.New("HOME is not set")
				}
				return cty.StringVal(home), nil
			},
		}),
	}
}

// total is a string function that cannot fail, for stringFunc.
func total(f func(string) string) func(string) (string, error) {
	return func(s string) (string, error) { return f(s), nil }
}

// sanitize replaces every character a target name cannot hold
// ([a-zA-Z0-9_-]) with an underscore.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// indexOfFunc is the index of the first element of a list or tuple equal
// to a value; an error when there is none.
var indexOfFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "list", Type: cty.DynamicPseudoType},
		{Name: "value", Type: cty.DynamicPseudoType},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		list := args[0]
		if !list.Type().IsListType() && !list.Type().IsTupleType() {
			return cty.NilVal, errors.New("argument must be a list or tuple")
		}
		if !list.IsKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		for it := list.ElementIterator(); it.Next(); {
			i, v := it.Element()
			eq, err := stdlib.Equal(v, args[1])
			if err != nil {
				return cty.NilVal, err
			}
			if !eq.IsKnown() {
				return cty.UnknownVal(cty.Number), nil
			}
			if eq.True() {
				return i, nil
			}
		}
		return cty.NilVal, errors.New("item not found")
	},
})
