package compiler

import (
	"fmt"
	"path"
	"strings"

	"github.com/bakeplan/bakeplan/internal/bakecsv"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/bakeplan/bakeplan/targetattr"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// override is one --set PATTERN.KEY[.NAME][+]=VALUE, as bake's --set
// takes it: PATTERN matches target names (path.Match: *, ?, [...]); KEY is
// an attribute in bake's spelling; += appends to a list instead of
// replacing it, and an empty value clears one.
type override struct {
	raw     string
	pattern string
	key     string // normalised: args, labels, annotations, tags, platforms, ...
	name    string // the map key, for args.NAME and labels.NAME
	form    targetattr.SetForm
	value   string
	append  bool
}

// overrideKeys are the keys --set takes, by their names and bake's
// spellings, each to the attribute's name.
var overrideKeys = targetattr.SetKeys()

// parseOverrides reads the --set values; every malformed one is an error.
func parseOverrides(sets []string) ([]*override, hcl.Diagnostics) {
	var out []*override
	var diags hcl.Diagnostics
	bad := func(raw, format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid --set", Detail: fmt.Sprintf("--set %s: ", raw) + fmt.Sprintf(format, args...)})
	}
	for _, raw := range sets {
		lhs, value, ok := strings.Cut(raw, "=")
		if !ok {
			bad(raw, "expected PATTERN.KEY=VALUE, such as *.platforms=linux/arm64 or app.args.VERSION=1.")
			continue
		}
		o := &override{raw: raw, value: value}
		lhs, o.append = strings.CutSuffix(lhs, "+")
		parts := strings.SplitN(lhs, ".", 3)
		if len(parts) < 2 {
			bad(raw, "expected PATTERN.KEY, such as app.tags or *.platforms.")
			continue
		}
		o.pattern = parts[0]
		if _, err := path.Match(o.pattern, ""); err != nil {
			bad(raw, "the pattern %q is malformed: %v.", o.pattern, err)
			continue
		}
		key, known := overrideKeys[parts[1]]
		if !known {
			bad(raw, "bakeplan's --set does not take %q (it takes %s).", parts[1], strings.Join(targetattr.SetHint(), ", "))
			continue
		}
		o.key = key
		o.form = setForm(key)
		switch o.form {
		case targetattr.Named:
			if len(parts) != 3 {
				bad(raw, "%s needs a name: %s.%s.NAME=VALUE.", parts[1], o.pattern, parts[1])
				continue
			}
			o.name = parts[2]
		default:
			if len(parts) != 2 {
				bad(raw, "%s takes no name after it.", parts[1])
				continue
			}
		}
		if o.append && !o.form.IsList() {
			bad(raw, "+= appends to a list; %s is not one.", parts[1])
			continue
		}
		out = append(out, o)
	}
	return out, diags
}

// setForm is how --set writes the attribute named key.
func setForm(key string) targetattr.SetForm {
	a, _ := targetattr.Lookup(key)
	return a.Set
}

// applyOverrides sets, on a target's evaluated attributes, every --set
// whose pattern matches its name, in command-line order; repeated --set of
// a list key add to the list, as bake's do.
func applyOverrides(name string, attrs attrValues, overrides []*override) hcl.Diagnostics {
	var diags hcl.Diagnostics
	lists := map[string][]cty.Value{} // list keys this call has set
	for _, o := range overrides {
		if ok, _ := path.Match(o.pattern, name); !ok {
			continue
		}
		switch o.form {
		case targetattr.String:
			attrs[o.key] = cty.StringVal(o.value)
		case targetattr.Bool:
			b, err := parseBool(o.value)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid --set", Detail: fmt.Sprintf("--set %s: %v.", o.raw, err)})
				continue
			}
			attrs[o.key] = cty.BoolVal(b)
		case targetattr.Named:
			attrs[o.key] = mergeMaps(orEmptyMap(attrs[o.key]), cty.MapVal(map[string]cty.Value{o.name: cty.StringVal(o.value)}))
		case targetattr.Pairs:
			k, v, ok := strings.Cut(o.value, "=")
			if !ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid --set", Detail: fmt.Sprintf("--set %s: an annotation is KEY=VALUE.", o.raw)})
				continue
			}
			attrs[o.key] = mergeMaps(orEmptyMap(attrs[o.key]), cty.MapVal(map[string]cty.Value{k: cty.StringVal(v)}))
		default:
			elems, err := listElems(o)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid --set", Detail: fmt.Sprintf("--set %s: %v.", o.raw, err)})
				continue
			}
			prev, set := lists[o.key]
			switch {
			case o.append && !set:
				if v, ok := attrs[o.key]; ok && !v.IsNull() {
					v, _ = v.Unmark()
					prev = v.AsValueSlice()
				}
				lists[o.key] = append(prev, elems...)
			case o.value == "" && !o.append:
				lists[o.key] = nil
			default:
				lists[o.key] = append(prev, elems...)
			}
			if len(lists[o.key]) == 0 {
				delete(attrs, o.key)
				continue
			}
			// Secrets of different kinds are objects of different
			// types: a tuple, converted to the attribute's type.
			v, err := convertAttr(cty.TupleVal(lists[o.key]), attrType(o.key))
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid --set", Detail: fmt.Sprintf("--set %s: %v.", o.raw, err)})
				continue
			}
			attrs[o.key] = v
		}
	}
	return diags
}

// listElems is a list value of --set, as the attribute's form reads it:
// comma-separated (platforms), bake's CSV form (type=registry,ref=...), or
// the value as is.
func listElems(o *override) ([]cty.Value, error) {
	if o.value == "" {
		return nil, nil
	}
	switch o.form {
	case targetattr.CSV:
		v, err := bakecsv.Element(o.key, o.value)
		if err != nil {
			return nil, err
		}
		return []cty.Value{v}, nil
	case targetattr.CommaList:
		var out []cty.Value
		for _, p := range strings.Split(o.value, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, cty.StringVal(p))
			}
		}
		return out, nil
	}
	return []cty.Value{cty.StringVal(o.value)}, nil
}

func orEmptyMap(v cty.Value) cty.Value {
	if v == cty.NilVal || v.IsNull() {
		return cty.MapValEmpty(cty.String)
	}
	return v
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// attrType is a target attribute's declared type.
func attrType(name string) cty.Type {
	for _, a := range spec.TargetAttributes {
		if a.Name == name {
			return a.Type
		}
	}
	return cty.DynamicPseudoType
}
