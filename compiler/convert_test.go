package compiler

import (
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// convertAttr must agree with cty's conversion on every value, taking its
// shortcut or not.
func TestConvertAttrMatchesCty(t *testing.T) {
	s := cty.StringVal
	values := []cty.Value{
		cty.TupleVal([]cty.Value{s("a"), s("b")}),
		cty.TupleVal([]cty.Value{s("a"), cty.NumberIntVal(1)}),
		cty.TupleVal([]cty.Value{s("a"), cty.NullVal(cty.String)}),
		cty.TupleVal([]cty.Value{s("a"), s("b").Mark("sensitive")}),
		cty.TupleVal([]cty.Value{s("a"), cty.UnknownVal(cty.String)}),
		cty.TupleVal([]cty.Value{s("a"), cty.True}),
		cty.EmptyTupleVal,
		cty.ListVal([]cty.Value{s("x")}),
		cty.ObjectVal(map[string]cty.Value{"A": s("1"), "B": s("2")}),
		cty.ObjectVal(map[string]cty.Value{"A": s("1"), "B": cty.NumberIntVal(2)}),
		cty.ObjectVal(map[string]cty.Value{"A": s("1"), "B": s("2").Mark("sensitive")}),
		cty.ObjectVal(map[string]cty.Value{"A": cty.NullVal(cty.String)}),
		cty.EmptyObjectVal,
		cty.MapVal(map[string]cty.Value{"A": s("1")}),
		cty.NullVal(cty.DynamicPseudoType),
		cty.UnknownVal(cty.DynamicPseudoType),
		s("x"),
		cty.NumberIntVal(3),
		cty.TupleVal([]cty.Value{s("a")}).Mark("sensitive"),
	}
	types := []cty.Type{cty.List(cty.String), cty.Map(cty.String), cty.String, cty.Bool, cty.List(cty.Map(cty.String))}
	for _, v := range values {
		for _, ty := range types {
			want, wantErr := convert.Convert(v, ty)
			got, gotErr := convertAttr(v, ty)
			if (gotErr == nil) != (wantErr == nil) {
				t.Errorf("%#v to %#v: error %v, cty says %v", v, ty, gotErr, wantErr)
				continue
			}
			if wantErr == nil && !got.RawEquals(want) {
				t.Errorf("%#v to %#v: got %#v, cty gives %#v", v, ty, got, want)
			}
		}
	}
}
