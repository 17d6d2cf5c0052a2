package compiler

import (
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// csvAttributes are the list attributes whose elements bake also takes as
// CSV strings ("type=registry,ref=...", "id=npm,env=NPM_TOKEN").
var csvAttributes = map[string]bool{"output": true, "cache_from": true, "cache_to": true, "secret": true, "ssh": true, "attest": true}

// fromBakeForms reads the string forms bake takes for some attributes as
// the values bakeplan's types hold: for output, cache_from, cache_to,
// secret, ssh and attest, each CSV string element of the list becomes the
// object it stands for; annotations in list form become a map. Other
// values pass as they are.
func fromBakeForms(name string, v cty.Value) (cty.Value, error) {
	if name == "annotations" {
		return annotationList(v)
	}
	if !csvAttributes[name] || v.IsNull() || !v.IsKnown() {
		return v, nil
	}
	raw, marks := v.Unmark()
	if !raw.Type().IsTupleType() && !raw.Type().IsListType() {
		return v, nil
	}
	elems := raw.AsValueSlice()
	changed := false
	for i, e := range elems {
		e, emarks := e.Unmark()
		if e.Type() != cty.String || e.IsNull() {
			continue
		}
		obj, err := csvElement(name, e.AsString())
		if err != nil {
			return v, fmt.Errorf("element %d, %q: %v", i, e.AsString(), err)
		}
		elems[i] = obj.WithMarks(emarks)
		changed = true
	}
	if !changed && len(elems) > 0 {
		return v, nil
	}
	// An empty list of strings (a function's [] for "no cache") must
	// convert to a list of objects too: an empty tuple does.
	return cty.TupleVal(elems).WithMarks(marks), nil
}

// csvElement reads one CSV element as bake does (buildx v0.38.2,
// util/buildflags): outputs, caches and attestations as their key=value
// attributes; a lone output is a local directory ("./bin" is
// type=local,dest=./bin), a lone cache a registry reference; a secret's src
// is its file; an SSH entry is ID or ID=PATH[,PATH...].
func csvElement(name, s string) (cty.Value, error) {
	lone := !strings.Contains(s, "=") && !strings.Contains(s, ",")
	switch {
	case lone && name == "output":
		if s == "-" {
			return cty.NilVal, fmt.Errorf("a tar stream on standard output is not an output bakeplan writes; use type=oci,dest=FILE")
		}
		return cty.MapVal(map[string]cty.Value{"type": cty.StringVal("local"), "dest": cty.StringVal(s)}), nil
	case lone && (name == "cache_from" || name == "cache_to"):
		return cty.MapVal(map[string]cty.Value{"type": cty.StringVal("registry"), "ref": cty.StringVal(s)}), nil
	}
	switch name {
	case "ssh":
		id, paths, _ := strings.Cut(s, "=")
		obj := map[string]cty.Value{"id": cty.StringVal(id)}
		if paths != "" {
			var ps []cty.Value
			for _, p := range strings.Split(paths, ",") {
				ps = append(ps, cty.StringVal(p))
			}
			obj["paths"] = cty.ListVal(ps)
		}
		return cty.ObjectVal(obj), nil
	case "secret":
		m, err := csvAttrs(s)
		if err != nil {
			return cty.NilVal, err
		}
		obj := map[string]cty.Value{}
		for k, v := range m {
			switch k {
			case "id", "env":
				obj[k] = v
			case "src", "source":
				obj["file"] = v
			case "type":
				if t := v.AsString(); t != "env" && t != "file" {
					return cty.NilVal, fmt.Errorf("a secret's type is env or file, not %s", t)
				}
			default:
				return cty.NilVal, fmt.Errorf("a secret takes type, id, env and src, not %s", k)
			}
		}
		// type=env reads src as the variable's name, as bake does; with
		// neither, the id names it (BuildKit would try the variable, then
		// a file of that name: bakeplan says which, and checks it).
		if t, ok := m["type"]; ok && t.AsString() == "env" && obj["env"] == cty.NilVal {
			if f, ok := obj["file"]; ok {
				obj["env"] = f
				delete(obj, "file")
			} else if id, ok := obj["id"]; ok {
				obj["env"] = id
			}
		}
		return cty.ObjectVal(obj), nil
	}
	m, err := csvAttrs(s)
	if err != nil {
		return cty.NilVal, err
	}
	return cty.MapVal(m), nil
}

// annotationList reads annotations in bake's list form, ["KEY=VALUE", ...]
// (as docker/metadata-action writes them, "index:KEY=VALUE" included), as
// the map bakeplan takes; a map passes as it is.
func annotationList(v cty.Value) (cty.Value, error) {
	if v.IsNull() || !v.IsKnown() {
		return v, nil
	}
	raw, marks := v.Unmark()
	if !raw.Type().IsTupleType() && !raw.Type().IsListType() {
		return v, nil
	}
	m := map[string]cty.Value{}
	for i, e := range raw.AsValueSlice() {
		e, emarks := e.Unmark()
		if e.Type() != cty.String || e.IsNull() {
			return v, fmt.Errorf("element %d: an annotation in a list is a \"KEY=VALUE\" string", i)
		}
		k, val, ok := strings.Cut(e.AsString(), "=")
		if !ok || k == "" {
			return v, fmt.Errorf("element %d, %q: an annotation is KEY=VALUE", i, e.AsString())
		}
		m[k] = cty.StringVal(val).WithMarks(emarks)
	}
	if len(m) == 0 {
		return cty.MapValEmpty(cty.String).WithMarks(marks), nil
	}
	return cty.MapVal(m).WithMarks(marks), nil
}

// BakeCSV is the object bake's CSV string s stands for in the list
// attribute name (output, cache_from, cache_to, secret, ssh, attest), as
// the compiler reads it; bakeplan import writes it out in object form.
func BakeCSV(name, s string) (cty.Value, error) {
	if !csvAttributes[name] {
		return cty.NilVal, fmt.Errorf("%s takes no CSV form", name)
	}
	return csvElement(name, s)
}
