package bakeimport

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/internal/bakecsv"
	"github.com/bakeplan/bakeplan/targetattr"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// bakeNames maps the target attributes bake reads (buildx v0.38.2,
// bake.Target) to bakeplan's names: those targetattr names a bake spelling
// for, and those not carried over (kept, to be commented out with the
// reason). bake ignores every other attribute, so the translation leaves
// them out too.
var bakeNames = func() map[string]string {
	m := map[string]string{}
	for _, a := range targetattr.All {
		if a.Bake != "" {
			m[a.Bake] = a.Name
		}
	}
	for name := range notCarried {
		m[name] = name
	}
	return m
}()

// notCarried says why a bake attribute has no bakeplan equivalent.
var notCarried = map[string]string{
	"pull":      "bakeplan pins base images in bakeplan.lock.hcl (bakeplan lock) instead of pulling them again on every build, so bake's pull is left out.",
	"resources": "bakeplan sets no resource limits for a build yet, so bake's resources is left out.",
	"policy":    "bakeplan does not evaluate build policies, so bake's policy is left out.",
}

func (c *conv) target(b *hclsyntax.Block) {
	local := map[string]bool{}
	if m := b.Body.Attributes["matrix"]; m != nil {
		if obj, ok := m.Expr.(*hclsyntax.ObjectConsExpr); ok {
			for _, it := range obj.Items {
				if k := hcl.ExprAsKeyword(it.KeyExpr); k != "" {
					local[k] = true
				} else if s, ok := constString(it.KeyExpr); ok {
					local[s] = true
				}
			}
		} else {
			c.warn(m.Expr.Range(), "Matrix keys unknown", "The matrix is not an object written out, so its keys cannot be told from variables; its values are read as variables.")
		}
	}
	for _, a := range sortedAttrs(b.Body) {
		name, known := bakeNames[a.Name]
		switch {
		case !known:
			why := fmt.Sprintf("bake ignores %q in a target, so it is left out.", a.Name)
			for bake, ours := range bakeNames {
				if ours == a.Name && bake != a.Name {
					why = fmt.Sprintf("bake ignores %q in a target (its name in bake is %q), so it is left out.", a.Name, bake)
				}
			}
			c.commentOut(a.SrcRange, "Attribute bake ignores", why)
		case notCarried[a.Name] != "":
			c.commentOut(a.SrcRange, "Attribute not carried over", notCarried[a.Name])
		case a.Name == "inherits":
			c.inherits(a, local)
		case a.Name == "contexts":
			c.contexts(a, local)
		case a.Name == "annotations":
			c.annotations(a, local)
		case a.Name == "output" || a.Name == "cache-from" || a.Name == "cache-to" || a.Name == "secret" || a.Name == "ssh" || a.Name == "attest":
			c.csvList(a, name, local)
		default:
			c.rewrite(a, name, local)
		}
	}
	c.ignoredBlocks(b.Body, "target")
}

func (c *conv) group(b *hclsyntax.Block) {
	for _, a := range sortedAttrs(b.Body) {
		switch a.Name {
		case "targets":
			c.references(a, "targets", nil, true)
		case "description":
			c.rewrite(a, a.Name, nil)
		default:
			c.commentOut(a.SrcRange, "Attribute bake ignores", fmt.Sprintf("bake ignores %q in a group, so it is left out.", a.Name))
		}
	}
	c.ignoredBlocks(b.Body, "group")
}

func (c *conv) inherits(a *hclsyntax.Attribute, local map[string]bool) {
	c.references(a, "inherits", local, false)
}

// references writes a list of target (and, for a group, group) names as
// traversals. A computed name is read with the variables' values when
// importing, as bake would read it then, and the note says so.
func (c *conv) references(a *hclsyntax.Attribute, name string, local map[string]bool, groups bool) {
	list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		if !groups {
			c.warn(a.Expr.Range(), "Names not written out", fmt.Sprintf("%s is not a list written out, so its names cannot be made references; it is kept as bake wrote it, and bakeplan will refuse it until it lists target.NAME references.", name))
		}
		// A group's computed list is kept: the compiler evaluates it to
		// names once variables are known, as bake does.
		c.rewrite(a, name, local)
		return
	}
	var refs, notes []string
	for _, e := range list.Exprs {
		s, literal := constString(e)
		if !literal {
			var known bool
			if s, known = c.importString(e); !known {
				c.warn(e.Range(), "Name not known before the build", fmt.Sprintf("%s is computed from values bakeplan cannot know when importing, so it is left out.", c.text(e.Range())))
				notes = append(notes, "left out "+c.text(e.Range()))
				continue
			}
			c.warn(e.Range(), "Computed name read when importing", fmt.Sprintf("%s is read with the variables' values when importing (their defaults, or the environment's) as %q; a variable set at build time no longer changes which target it names.", c.text(e.Range()), s))
			notes = append(notes, fmt.Sprintf("%s read as %s when importing", c.text(e.Range()), s))
		}
		switch {
		case c.names.targets[s]:
			refs = append(refs, "target."+s)
		case groups && c.names.groups[s]:
			refs = append(refs, "group."+s)
		case hclsyntax.ValidIdentifier(s):
			// Perhaps a target another -f file defines, as
			// docker-metadata-action's file does.
			if !c.names.matrix {
				c.warn(e.Range(), "Unknown target", fmt.Sprintf("No target %q is defined in the imported files; it is written as target.%s, which a further spec file (-f) must define.", s, s))
			}
			// Else perhaps a name a matrix makes: the compiler knows.
			refs = append(refs, "target."+s)
		default:
			c.warn(e.Range(), "Unknown target", fmt.Sprintf("%q names no target, and cannot be written as a reference, so it is left out.", s))
			notes = append(notes, fmt.Sprintf("left out %q", s))
		}
	}
	note := ""
	if len(notes) > 0 {
		note = name + ": " + strings.Join(notes, "; ")
	}
	c.replace(a.SrcRange, noted(note, name+" = "+hclList(refs, multiline(a.Expr))))
}

// contexts writes "target:NAME" values as target.NAME.
func (c *conv) contexts(a *hclsyntax.Attribute, local map[string]bool) {
	obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		c.computedContexts(a, local)
		return
	}
	var b strings.Builder
	b.WriteString("contexts = {\n")
	for _, it := range obj.Items {
		key := c.expr(it.KeyExpr, local)
		val := c.expr(it.ValueExpr, local)
		if s, ok := constString(it.ValueExpr); ok {
			if t, isTarget := strings.CutPrefix(s, "target:"); isTarget {
				switch {
				case !hclsyntax.ValidIdentifier(t):
					c.warn(it.ValueExpr.Range(), "Unknown target", fmt.Sprintf("%q names no target bakeplan can refer to, so it is kept as a string.", s))
				case !c.names.targets[t] && !c.names.matrix:
					c.warn(it.ValueExpr.Range(), "Unknown target", fmt.Sprintf("No target %q is defined in the imported files; it is written as target.%s.", t, t))
				}
				if hclsyntax.ValidIdentifier(t) {
					val = contextValue(s)
				}
			}
		} else if text := c.text(it.ValueExpr.Range()); strings.Contains(text, "target:") {
			// A context that may name a target (cond ? "target:x" :
			// "docker-image://scratch"): read as it is when importing.
			if s, known := c.importString(it.ValueExpr); !known {
				c.warn(it.ValueExpr.Range(), "Target context computed", "This context names a target through an expression bakeplan cannot evaluate when importing; bakeplan needs target.NAME written out to build it first, so it is kept as a string and will be read as a directory or image.")
			} else {
				val = contextValue(s)
				why := fmt.Sprintf("%s is read with the variables' values when importing as %s", oneLine(text), val)
				c.warn(it.ValueExpr.Range(), "Computed context read when importing", why+"; a variable set at build time no longer changes it.")
				fmt.Fprintf(&b, "# bakeplan: %s\n", why)
			}
		}
		fmt.Fprintf(&b, "%s = %s\n", key, val)
	}
	b.WriteString("}")
	c.replace(a.SrcRange, b.String())
}

// computedContexts reads contexts that an expression computes (cond ?
// { ... } : null) with the variables' values when importing, as bake
// would read them then: bakeplan needs the map written out to know the
// builds that feed this one.
func (c *conv) computedContexts(a *hclsyntax.Attribute, local map[string]bool) {
	v, d := a.Expr.Value(c.importContext())
	ok := !d.HasErrors() && v.IsWhollyKnown() && (v.IsNull() || v.Type().IsObjectType() || v.Type().IsMapType())
	if ok && !v.IsNull() {
		for _, e := range v.AsValueMap() {
			ok = ok && e.Type() == cty.String && !e.IsNull()
		}
	}
	if !ok {
		c.warn(a.Expr.Range(), "Contexts not written out", "contexts is computed from values bakeplan cannot know when importing; it is kept as bake wrote it, and bakeplan will refuse it until it is a map written out.")
		c.rewrite(a, "contexts", local)
		return
	}
	why := fmt.Sprintf("contexts = %s is read with the variables' values when importing", oneLine(c.text(a.Expr.Range())))
	c.warn(a.Expr.Range(), "Computed contexts read when importing", why+"; a variable set at build time no longer changes them.")
	if v.IsNull() || len(v.AsValueMap()) == 0 {
		c.commentOut(a.SrcRange, "Computed contexts read when importing", why+": none.")
		c.warns = c.warns[:len(c.warns)-1] // said once, above
		return
	}
	var b strings.Builder
	b.WriteString("contexts = {\n")
	m := v.AsValueMap()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := contextValue(m[k].AsString())
		key := k
		if !hclsyntax.ValidIdentifier(k) {
			key = quote(k)
		}
		fmt.Fprintf(&b, "%s = %s\n", key, val)
	}
	b.WriteString("}")
	c.replace(a.SrcRange, noted(why, b.String()))
}

// contextValue is a context as bakeplan writes it: "target:NAME" as the
// reference target.NAME, anything else as a string.
func contextValue(s string) string {
	if t, ok := strings.CutPrefix(s, "target:"); ok && hclsyntax.ValidIdentifier(t) {
		return "target." + t
	}
	return quote(s)
}

// importContext evaluates expressions with the variables' values when
// importing (no functions: only what is known without them).
func (c *conv) importContext() *hcl.EvalContext {
	return &hcl.EvalContext{Variables: c.names.values}
}

// importString is e's value when importing, when it is a known string.
func (c *conv) importString(e hcl.Expression) (string, bool) {
	v, d := e.Value(c.importContext())
	if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// annotations writes bake's list form ["KEY=VALUE"] as a map when every
// element is a literal.
func (c *conv) annotations(a *hclsyntax.Attribute, local map[string]bool) {
	list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		c.rewrite(a, "annotations", local)
		return
	}
	var b strings.Builder
	b.WriteString("annotations = {\n")
	for _, e := range list.Exprs {
		s, ok := constString(e)
		k, v, found := strings.Cut(s, "=")
		if !ok || !found {
			// bakeplan reads the list form too.
			c.rewrite(a, "annotations", local)
			return
		}
		fmt.Fprintf(&b, "%s = %s\n", quote(k), quote(v))
	}
	b.WriteString("}")
	c.replace(a.SrcRange, b.String())
}

// csvList writes each literal CSV string of a list as the object it stands
// for; computed strings stay strings, which bakeplan reads the same way.
func (c *conv) csvList(a *hclsyntax.Attribute, name string, local map[string]bool) {
	list, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		c.rewrite(a, name, local)
		return
	}
	var elems, notes []string
	for _, e := range list.Exprs {
		s, ok := constString(e)
		if !ok {
			elems = append(elems, c.expr(e, local))
			continue
		}
		v, err := bakecsv.Element(name, s)
		if err != nil {
			c.warn(e.Range(), "Value bakeplan refuses", fmt.Sprintf("%q: %v. It is left out.", s, err))
			notes = append(notes, fmt.Sprintf("left out %q: %v", s, err))
			continue
		}
		obj, note := c.imageOutput(name, valueMap(v), e.Range())
		if note != "" {
			notes = append(notes, note)
		}
		elems = append(elems, object(obj))
	}
	note := ""
	if len(notes) > 0 {
		note = name + ": " + strings.Join(notes, "; ")
	}
	c.replace(a.SrcRange, noted(note, name+" = "+hclList(elems, multiline(a.Expr))))
}

// imageOutput reads bake's image exporter: pushed, it is the registry
// output; not pushed, the image stays in the builder, which for bake's
// usual docker driver means Docker's image store: bakeplan's docker output.
func (c *conv) imageOutput(attr string, m map[string]string, r hcl.Range) (map[string]string, string) {
	if attr != "output" || m["type"] != "image" {
		return m, ""
	}
	out := map[string]string{}
	for k, v := range m {
		if k != "type" && k != "push" && k != "name" {
			out[k] = v
		}
	}
	var note string
	if m["name"] != "" {
		note = fmt.Sprintf("name=%s is not carried over: bakeplan names images by the target's tags", m["name"])
		c.warn(r, "Output name not carried over", note+".")
	}
	if push := m["push"]; push == "true" || push == "1" {
		out["type"] = "registry"
		return out, note
	}
	out["type"] = "docker"
	why := "type=image without push keeps the image in the builder, which for bake's docker driver is Docker's image store; it is imported as type=docker"
	c.warn(r, "Image output imported as docker", why+".")
	if note != "" {
		why = note + "; " + why
	}
	return out, why
}

func valueMap(v cty.Value) map[string]string {
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		switch {
		case e.Type() == cty.String:
			out[k] = e.AsString()
		case e.Type().IsListType() || e.Type().IsTupleType():
			var parts []string
			for _, p := range e.AsValueSlice() {
				parts = append(parts, p.AsString())
			}
			out[k] = strings.Join(parts, ",")
		}
	}
	return out
}

// object writes m as an HCL object, type (or id) first, then by key.
func object(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		switch k {
		case "type":
			return 0
		case "id":
			return 1
		}
		return 2
	}
	sort.Slice(keys, func(i, j int) bool {
		if rank(keys[i]) != rank(keys[j]) {
			return rank(keys[i]) < rank(keys[j])
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		key := k
		if !hclsyntax.ValidIdentifier(k) {
			key = quote(k)
		}
		val := quote(m[k])
		if k == "paths" { // an SSH entry's paths are a list
			var ps []string
			for _, p := range strings.Split(m[k], ",") {
				ps = append(ps, quote(p))
			}
			val = "[" + strings.Join(ps, ", ") + "]"
		}
		parts = append(parts, key+" = "+val)
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// quote is s as an HCL string literal, with ${ and %{ escaped.
func quote(s string) string {
	return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes())
}

// constString is e's value when e is a string that needs no variable or
// function.
func constString(e hcl.Expression) (string, bool) {
	if len(e.Variables()) > 0 {
		return "", false
	}
	v, d := e.Value(nil)
	if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}
