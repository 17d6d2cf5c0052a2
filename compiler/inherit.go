package compiler

import (
	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// How inherits combines a parent's attribute with a later parent's or the
// target's own, as docker buildx bake v0.38.2 does (bake/bake.go,
// Target.Merge): maps merge key by key, the later value winning; secrets
// and SSH entries merge by id and attestations by type, a later entry
// replacing an earlier one in place; cache_from entries are all kept, an
// exact repeat once. Every other attribute is replaced whole.
var inheritMerge = map[string]func(base, over cty.Value) cty.Value{
	"args":        mergeMaps,
	"labels":      mergeMaps,
	"annotations": mergeMaps,
	"secret":      mergeListBy("id"),
	"ssh":         mergeListBy("id"),
	"attest":      mergeListBy("type"),
	"cache_from":  mergeListBy(""),
}

// inherit combines base (from parents) with over for attribute name.
func inherit(name string, base, over cty.Value) cty.Value {
	merge, ok := inheritMerge[name]
	if !ok || base.IsNull() || over.IsNull() || !base.IsKnown() || !over.IsKnown() {
		return over
	}
	return merge(base, over)
}

// mergeMaps is base with over's entries set on it. Marks (sensitive
// values) stay on the elements, and the maps' own marks on the result.
func mergeMaps(base, over cty.Value) cty.Value {
	b, bmarks := base.Unmark()
	o, omarks := over.Unmark()
	if !b.Type().IsMapType() || !o.Type().IsMapType() {
		return over
	}
	out := b.AsValueMap()
	if out == nil {
		out = map[string]cty.Value{}
	}
	for k, v := range o.AsValueMap() {
		out[k] = v
	}
	var merged cty.Value
	if len(out) == 0 {
		merged = cty.MapValEmpty(o.Type().ElementType())
	} else {
		merged = cty.MapVal(out)
	}
	return merged.WithMarks(bmarks, omarks)
}

// mergeListBy is base followed by over, where an element of over whose key
// attribute matches an earlier element replaces it in place; with no key,
// an element equal to an earlier one is dropped.
func mergeListBy(key string) func(base, over cty.Value) cty.Value {
	return func(base, over cty.Value) cty.Value {
		b, bmarks := base.Unmark()
		o, omarks := over.Unmark()
		if !b.Type().IsListType() || !o.Type().IsListType() {
			return over
		}
		var out []cty.Value
		index := map[string]int{}
		add := func(v cty.Value) {
			if key == "" {
				for _, e := range out {
					if e.RawEquals(v) {
						return
					}
				}
				out = append(out, v)
				return
			}
			k := keyOf(v, key)
			if i, ok := index[k]; ok && k != "" {
				out[i] = v
				return
			}
			index[k] = len(out)
			out = append(out, v)
		}
		for _, v := range b.AsValueSlice() {
			add(v)
		}
		for _, v := range o.AsValueSlice() {
			add(v)
		}
		if len(out) == 0 {
			return cty.ListValEmpty(o.Type().ElementType()).WithMarks(bmarks, omarks)
		}
		return cty.ListVal(out).WithMarks(bmarks, omarks)
	}
}

// keyOf reads an element's key attribute, or "" when it has none.
func keyOf(v cty.Value, key string) string {
	v, _ = v.Unmark()
	if v.IsNull() || !v.IsKnown() {
		return ""
	}
	var k cty.Value
	switch {
	case v.Type().IsObjectType() && v.Type().HasAttribute(key):
		k = v.GetAttr(key)
	case v.Type().IsMapType():
		if m := v.AsValueMap(); m != nil {
			k = m[key]
		}
	default:
		return ""
	}
	k, _ = k.Unmark()
	if k == cty.NilVal || k.IsNull() || !k.IsKnown() || k.Type() != cty.String {
		return ""
	}
	return k.AsString()
}

// mergeEarlierFiles merges into attrs, for a target declared in several
// spec files, what the earlier files set for the attributes that merge
// (args, labels, ...): bake merges same-named targets across files as it
// merges inherits. Other attributes are the latest file's, as attrs
// already holds them.
func (c *compilation) mergeEarlierFiles(in *instance, attrs attrValues) hcl.Diagnostics {
	if len(in.decl.Earlier) == 0 {
		return nil
	}
	var diags hcl.Diagnostics
	for _, def := range spec.TargetAttributes {
		if _, merges := inheritMerge[def.Name]; !merges {
			continue
		}
		own, ok := attrs[def.Name]
		if !ok {
			continue
		}
		ownExpr := in.exprs[def.Name]
		merged := cty.NilVal
		for _, layer := range in.decl.Earlier {
			if _, set := layer[def.Name]; !set {
				continue
			}
			// The layer's expression, evaluated as the target's own.
			li, ld := *in, *in.decl
			ld.Attrs, li.decl = layer, &ld
			tmp := attrValues{}
			diags = append(diags, c.evalAttr(&li, def, in.ctx, tmp)...)
			in.failed = in.failed || li.failed
			v, ok := tmp[def.Name]
			if !ok {
				continue
			}
			if merged == cty.NilVal {
				merged = v
			} else {
				merged = inherit(def.Name, merged, v)
			}
		}
		in.exprs[def.Name] = ownExpr
		if merged != cty.NilVal {
			attrs[def.Name] = inherit(def.Name, merged, own)
		}
	}
	return diags
}
