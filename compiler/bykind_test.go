package compiler

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// TestByKindAttributesAreTypedForTheirField: an attribute resolved by its
// field's kind has the spec type that kind converts from, and may not be
// sensitive (the generic path has no fingerprints); a structured field
// must be resolved by hand.
func TestByKindAttributesAreTypedForTheirField(t *testing.T) {
	for _, f := range byKind {
		want, ok := byKindTypes[f.Kind]
		switch {
		case !ok:
			t.Errorf("plan.Build.%s (%s) is structured: resolve it by hand and list it in resolvedByHand", f.Field, f.Name)
		case f.Type != want:
			t.Errorf("%s is a %s in the spec, but plan.Build.%s takes a %s", f.Name, f.Type, f.Field, want)
		}
		if f.MayBeSensitive {
			t.Errorf("%s may be sensitive: resolve it by hand, with fingerprints", f.Name)
		}
		if f.Check != nil && f.Kind != plan.KindString && f.Kind != plan.KindList {
			t.Errorf("%s has a Check, which only a string or a list of strings is given", f.Name)
		}
	}
	for field := range resolvedByHand {
		found := false
		for _, f := range plan.AttrFields() {
			found = found || f.Field == field
		}
		if !found {
			t.Errorf("resolvedByHand names plan.Build.%s, which no attribute becomes", field)
		}
	}
}

// TestResolveByKind proves by difference, for every kind, that a value
// reaches its field as the kind says, and that null leaves it unset.
func TestResolveByKind(t *testing.T) {
	nowhere := func(string) hcl.Range { return hcl.Range{} }
	values := map[plan.FieldKind]cty.Value{
		plan.KindString: cty.StringVal("x"),
		plan.KindBool:   cty.True,
		plan.KindInt:    cty.NumberIntVal(7),
		plan.KindList:   cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal(""), cty.StringVal("b"), cty.StringVal("a")}),
		plan.KindMap:    cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")}),
		plan.KindMaps:   cty.ListVal([]cty.Value{cty.MapVal(map[string]cty.Value{"k": cty.StringVal("v")})}),
	}
	want := map[plan.FieldKind]any{
		plan.KindString: "x", plan.KindBool: true, plan.KindInt: int64(7), plan.KindList: []string{"a", "b"},
		plan.KindMap: map[string]string{"k": "v"}, plan.KindMaps: []map[string]string{{"k": "v"}},
	}
	for _, f := range plan.AttrFields() {
		v, ok := values[f.Kind]
		if !ok || f.Structural() {
			continue
		}
		// Any attribute's field of that kind, resolved as if by kind.
		r := &resolved{obj: attrValues{f.Name: v}}
		resolveByKind(r, []plan.AttrField{f}, nowhere)
		empty := &resolved{obj: attrValues{}}
		resolveByKind(empty, []plan.AttrField{f}, nowhere)
		got := reflect.ValueOf(r.build).FieldByName(f.Field)
		if !reflect.DeepEqual(got.Convert(reflect.TypeOf(want[f.Kind])).Interface(), want[f.Kind]) {
			t.Errorf("%s = %#v reached plan.Build.%s as %#v", f.Name, v, f.Field, got.Interface())
		}
		if f.IsSet(&empty.build) {
			t.Errorf("%s unset, but plan.Build.%s is set", f.Name, f.Field)
		}
	}
}

// TestResolveByKindRefusesAFieldSetByHand: an attribute a stage of
// resolve's own has set, but missing from resolvedByHand, is an internal
// error at the attribute (which every compile test fails on), and what
// that stage made of it stays.
func TestResolveByKindRefusesAFieldSetByHand(t *testing.T) {
	for _, f := range plan.AttrFields() {
		if f.Kind != plan.KindString {
			continue
		}
		r := &resolved{obj: attrValues{f.Name: cty.StringVal("by kind")}}
		f.Set(&r.build, "by hand")
		at := hcl.Range{Filename: "bakeplan.hcl", Start: hcl.Pos{Line: 3, Column: 3}}
		diags := resolveByKind(r, []plan.AttrField{f}, func(string) hcl.Range { return at })
		if len(diags) != 1 || !strings.HasPrefix(diags[0].Summary, "Internal error") || diags[0].Subject.Start != at.Start {
			t.Errorf("%s set by hand and by kind: got %v", f.Name, diags)
		}
		if got := f.Text(&r.build, ""); got != "by hand" {
			t.Errorf("%s: the stage's value was overwritten with %q", f.Name, got)
		}
	}
}
