// Package bakecsv reads the CSV strings bake takes for list attributes
// (output, cache_from, cache_to, secret, ssh, attest) as the objects they
// stand for: the compiler reads them so, and bakeplan import writes them
// out so.
package bakecsv

import (
	"encoding/csv"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Attributes are the list attributes (by bakeplan's names) whose elements
// bake also takes as CSV strings.
var Attributes = map[string]bool{"output": true, "cache_from": true, "cache_to": true, "secret": true, "ssh": true, "attest": true}

// Element reads one CSV element as bake does (buildx v0.38.2,
// util/buildflags): outputs, caches and attestations as their key=value
// attributes; a lone output is a local directory ("./bin" is
// type=local,dest=./bin), a lone cache a registry reference; a secret's src
// is its file; an SSH entry is ID or ID=PATH[,PATH...].
func Element(name, s string) (cty.Value, error) {
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
		m, err := attrs(s)
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
	m, err := attrs(s)
	if err != nil {
		return cty.NilVal, err
	}
	return cty.MapVal(m), nil
}

// attrs reads bake's CSV form of an output, cache or attestation:
// key=value pairs separated by commas, quoted as CSV; a lone value is the
// type (Element reads the lone forms that mean something else).
func attrs(s string) (map[string]cty.Value, error) {
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return nil, fmt.Errorf("not key=value pairs: %v", err)
	}
	m := map[string]cty.Value{}
	for _, f := range fields {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			if len(fields) == 1 {
				k, v = "type", k
			} else {
				return nil, fmt.Errorf("%q is not key=value", f)
			}
		}
		m[strings.ToLower(k)] = cty.StringVal(v)
	}
	return m, nil
}
