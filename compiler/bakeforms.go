package compiler

import (
	"fmt"
	"strings"

	"github.com/bakeplan/bakeplan/internal/bakecsv"

	"github.com/zclconf/go-cty/cty"
)

// fromBakeForms reads the string forms bake takes for some attributes as
// the values bakeplan's types hold: for output, cache_from, cache_to,
// secret, ssh and attest, each CSV string element of the list becomes the
// object it stands for; annotations in list form become a map. Other
// values pass as they are.
func fromBakeForms(name string, v cty.Value) (cty.Value, error) {
	if name == "annotations" {
		return annotationList(v)
	}
	if !bakecsv.Attributes[name] || v.IsNull() || !v.IsKnown() {
		return v, nil
	}
	raw, marks := v.Unmark()
	if !raw.Type().IsTupleType() && !raw.Type().IsListType() {
		return v, nil
	}
	var elems []cty.Value
	changed := false
	for i, e := range raw.AsValueSlice() {
		e, emarks := e.Unmark()
		if e.Type() != cty.String || e.IsNull() || !e.IsKnown() {
			elems = append(elems, e.WithMarks(emarks))
			continue
		}
		if e.AsString() == "" {
			changed = true // bake skips empty entries: [DESTDIR] with DESTDIR ""
			continue
		}
		obj, err := bakecsv.Element(name, e.AsString())
		if err != nil {
			return v, fmt.Errorf("element %d, %q: %v", i, e.AsString(), err)
		}
		elems = append(elems, obj.WithMarks(emarks))
		changed = true
	}
	if !changed && len(elems) > 0 {
		return v, nil
	}
	// An empty list of strings (a function's [] for "no cache") must
	// convert to a list of objects too: an empty tuple does.
	return cty.TupleVal(elems).WithMarks(marks), nil
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
