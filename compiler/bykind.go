package compiler

import (
	"github.com/bakeplan/bakeplan/plan"
	"github.com/hashicorp/hcl/v2"
)

// resolvedByHand are the attributes' fields resolve sets with code of its
// own: they are checked, converted or combined. Any other attribute's
// field is set by resolveByKind from its value as the field's kind says,
// so that an attribute that needs no check is a row in targetattr and a
// field on plan.Build, and nothing here.
var resolvedByHand = map[string]bool{
	"Builder": true, "Context": true, "Dockerfile": true, "DockerfileInline": true, "Stage": true,
	"Platforms": true, "Args": true, "Labels": true, "Annotations": true, "Contexts": true,
	"Tags": true, "Push": true, "Outputs": true, "CacheFrom": true, "CacheTo": true,
	"Secrets": true, "SSH": true, "Release": true, "Attest": true, "Call": true, "NoCache": true,
	"Network": true, "NoCacheFilter": true, "ShmSize": true, "Ulimits": true, "ExtraHosts": true,
	"Entitlements": true,
}

// byKindTypes is the spec type an attribute set by its field's kind must
// have: what the spec's schema converts its value to.
var byKindTypes = map[plan.FieldKind]string{
	plan.KindString: "string",
	plan.KindBool:   "bool",
	plan.KindInt:    "number",
	plan.KindList:   "list(string)",
	plan.KindMap:    "map(string)",
	plan.KindMaps:   "list(map(string))",
}

// resolveByKind sets the field of each attribute in fields (byKind: every
// attribute not resolved by hand), after the row's Check if it has one;
// at is where an attribute is set, for a diagnostic. A list is normalised
// as bake does (empty items and repeats dropped); the value may not be
// sensitive (resolve has refused that already). A field a hand-written
// stage has set already is an internal error: its attribute is missing
// from resolvedByHand.
func resolveByKind(r *resolved, fields []plan.AttrField, at func(string) hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	check := func(f plan.AttrField, s string) bool {
		if f.Check == nil {
			return true
		}
		if err := f.Check(s); err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + f.Name,
				Detail: f.Name + ": " + err.Error() + ".", Subject: at(f.Name).Ptr()})
			return false
		}
		return true
	}
	for _, f := range fields {
		v := r.obj.GetAttr(f.Name)
		if v.IsNull() || !v.IsWhollyKnown() {
			continue
		}
		if f.IsSet(&r.build) {
			// A stage of resolve's own set it: left here, this would
			// overwrite what that stage made of the value.
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError,
				Summary: "Internal error: " + f.Name + " resolved twice",
				Detail:  "plan.Build." + f.Field + " is set by hand and by its kind: list it in resolvedByHand.",
				Subject: at(f.Name).Ptr()})
			continue
		}
		v, _ = v.UnmarkDeep()
		switch f.Kind {
		case plan.KindString:
			if s := v.AsString(); check(f, s) {
				f.Set(&r.build, s)
			}
		case plan.KindBool:
			f.Set(&r.build, v.True())
		case plan.KindInt:
			n, _ := v.AsBigFloat().Int64()
			f.Set(&r.build, n)
		case plan.KindList:
			l := bakeList(v)
			ok := true
			for _, s := range l {
				ok = check(f, s) && ok
			}
			if ok && len(l) > 0 {
				f.Set(&r.build, l)
			}
		case plan.KindMap:
			if m := stringAttrs(v); len(m) > 0 {
				f.Set(&r.build, m)
			}
		case plan.KindMaps:
			var ms []map[string]string
			for it := v.ElementIterator(); it.Next(); {
				if _, e := it.Element(); !e.IsNull() {
					ms = append(ms, stringAttrs(e))
				}
			}
			if len(ms) > 0 {
				f.Set(&r.build, ms)
			}
		}
	}
	return diags
}

// byKind are the attributes' fields resolveByKind sets.
var byKind = func() []plan.AttrField {
	var out []plan.AttrField
	for _, f := range plan.AttrFields() {
		if !resolvedByHand[f.Field] {
			out = append(out, f)
		}
	}
	return out
}()
