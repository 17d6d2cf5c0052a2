package compiler

import (
	"fmt"
	"maps"
	"path"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/internal/par"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// instance is one target after matrix expansion.
type instance struct {
	name       string
	decl       *spec.Target
	matrixVars map[string]cty.Value

	refs    []*instance // targets its attribute expressions or inherits read
	parents []*instance // inherits, in order
	// selfReads maps each attribute that reads another of this target's
	// own attributes (tags = ["x/${target.foo.target}"] in foo) to those.
	selfReads map[string][]string

	state  int // 0 new, 1 evaluating, 2 done
	failed bool
	// early holds the diagnostics of an instance evaluated ahead of its
	// turn (evalIndependent); its turn only places it.
	early    hcl.Diagnostics
	computed bool
	obj      attrValues                // the evaluated attributes that are set
	exprs    map[string]hcl.Expression // attribute -> the expression that set it
	ctx      *hcl.EvalContext          // the context its expressions ran in
	value    cty.Value                 // obj as target.NAME shows it; built on first use
}

// attrValues holds a target's evaluated attributes that are not null. Most
// targets set a few of the many attributes, and only targets that others read
// need a full cty object, so the object is built only for those.
type attrValues map[string]cty.Value

// GetAttr returns an attribute's value, or the null of its type when unset.
func (a attrValues) GetAttr(name string) cty.Value {
	if v, ok := a[name]; ok {
		return v
	}
	return cty.NullVal(targetType.AttributeType(name))
}

// object returns in's attributes as the object target.NAME evaluates to.
func (in *instance) object() cty.Value {
	if in.value == cty.NilVal {
		in.value = in.obj.object()
	}
	return in.value
}

// object is every target attribute, null where unset, as one object.
func (a attrValues) object() cty.Value {
	all := make(map[string]cty.Value, len(spec.TargetAttributes))
	for _, def := range spec.TargetAttributes {
		all[def.Name] = a.GetAttr(def.Name)
	}
	return cty.ObjectVal(all)
}

// withVariable is ctx with one variable set to v, the others as they are.
func withVariable(ctx *hcl.EvalContext, name string, v cty.Value) *hcl.EvalContext {
	vars := make(map[string]cty.Value, len(ctx.Variables)+1)
	for k, x := range ctx.Variables {
		vars[k] = x
	}
	vars[name] = v
	return &hcl.EvalContext{Variables: vars, Functions: ctx.Functions}
}

// targetType is the object type of an evaluated target, as target.NAME shows it.
var targetType = func() cty.Type {
	attrs := map[string]cty.Type{}
	for _, a := range spec.TargetAttributes {
		attrs[a.Name] = a.Type
	}
	return cty.Object(attrs)
}()

func (c *compilation) evalTargets() hcl.Diagnostics {
	diags := c.expand()
	for _, g := range c.spec.Groups {
		c.groups[g.Name] = g
	}
	c.walkTargets()
	// Each instance's references are its own to collect: on every core,
	// diagnostics kept in order.
	refDiags := make([]hcl.Diagnostics, len(c.targets))
	par.Do(len(c.targets), func(i int) { refDiags[i] = c.collectRefs(c.targets[i]) })
	for _, d := range refDiags {
		diags = append(diags, d...)
	}
	if diags.HasErrors() {
		return diags
	}
	order := c.targets
	c.targets = nil
	c.evalIndependent(order)
	for _, in := range order {
		if c.ctx.Err() != nil {
			break
		}
		diags = append(diags, c.evalInstance(in, nil)...)
	}
	return diags
}

// evalIndependent evaluates, on every core, the instances that read no
// other target (most of a large spec): nothing they read changes while
// targets are evaluated. evalInstance then takes each in its turn, so the
// order of targets and of diagnostics is the order of evaluating them one
// by one; TestIndependentEvaluationMatchesSequential compares the two.
func (c *compilation) evalIndependent(order []*instance) {
	var free []*instance
	for _, in := range order {
		if len(in.refs) == 0 {
			free = append(free, in)
		}
	}
	if len(free) < 2 || c.opts.sequentialEval {
		return
	}
	c.plainContext() // shared, so made before
	par.Do(len(free), func(i int) {
		if c.ctx.Err() != nil {
			return
		}
		in := free[i]
		in.early = c.computeInstance(in)
		in.computed = true
		c.prefetch(in)
	})
}

// expand evaluates each target's matrix into instances.
func (c *compilation) expand() hcl.Diagnostics {
	var diags hcl.Diagnostics
	declared := map[string]hcl.Range{}
	add := func(in *instance, rng hcl.Range) {
		if prev, ok := declared[in.name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate target %q", in.name),
				Detail:   fmt.Sprintf("A target named %q is already declared at %s; matrix names must not collide with other targets.", in.name, prev),
				Subject:  rng.Ptr(),
			})
			return
		}
		declared[in.name] = rng
		c.byName[in.name] = in
		c.targets = append(c.targets, in)
	}
	for _, t := range c.spec.Targets {
		if t.Matrix == nil {
			add(&instance{name: t.Name, decl: t}, t.DeclRange)
			continue
		}
		rows, d := c.matrixRows(t)
		diags = append(diags, d...)
		for _, row := range rows {
			name, d := c.instanceName(t, row)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			in := &instance{name: name, decl: t, matrixVars: row}
			add(in, t.DeclRange)
			c.matrix[t.Name] = append(c.matrix[t.Name], in)
		}
	}
	return diags
}

// maxMatrixRows bounds one matrix, so that a typo cannot expand a spec into
// millions of targets.
const maxMatrixRows = 10000

// matrixRows evaluates a matrix into its rows: the cartesian product of its
// lists, keys in lexical order, values in list order.
func (c *compilation) matrixRows(t *spec.Target) ([]map[string]cty.Value, hcl.Diagnostics) {
	for _, trav := range t.Matrix.Variables() {
		if trav.RootName() == "target" {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid reference in matrix",
				Detail:   "A matrix is expanded before targets are evaluated, so it cannot refer to targets.",
				Subject:  trav.SourceRange().Ptr(),
			}}
		}
	}
	val, diags := t.Matrix.Value(c.evalCtx(nil))
	if diags.HasErrors() {
		return nil, diags
	}
	bad := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid matrix",
		Detail:   "A matrix is a map from names to lists of values, like { arch = [\"amd64\", \"arm64\"] }.",
		Subject:  t.Matrix.Range().Ptr(),
	}
	if val.ContainsMarked() {
		bad.Detail = "A matrix names targets, so it cannot hold sensitive values."
		return nil, hcl.Diagnostics{bad}
	}
	if val.IsNull() || !(val.Type().IsObjectType() || val.Type().IsMapType()) {
		return nil, hcl.Diagnostics{bad}
	}
	m := val.AsValueMap()
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if !hclsyntax.ValidIdentifier(k) || v.IsNull() || !(v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
			return nil, hcl.Diagnostics{bad}
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	size := 1
	for _, k := range keys {
		size *= max(m[k].LengthInt(), 1)
		if size > maxMatrixRows {
			bad.Detail = fmt.Sprintf("This matrix expands to more than %d targets.", maxMatrixRows)
			return nil, hcl.Diagnostics{bad}
		}
	}
	rows := []map[string]cty.Value{{}}
	for _, k := range keys {
		var next []map[string]cty.Value
		for _, row := range rows {
			for it := m[k].ElementIterator(); it.Next(); {
				_, v := it.Element()
				r := make(map[string]cty.Value, len(row)+1)
				for rk, rv := range row {
					r[rk] = rv
				}
				r[k] = v
				next = append(next, r)
			}
		}
		rows = next
	}
	if len(keys) == 0 {
		return nil, hcl.Diagnostics{bad}
	}
	return rows, nil
}

func (c *compilation) instanceName(t *spec.Target, row map[string]cty.Value) (string, hcl.Diagnostics) {
	rng := t.DeclRange
	var name string
	if t.NameExpr != nil {
		rng = t.NameExpr.Range()
		v, diags := t.NameExpr.Value(c.evalCtx(row))
		if diags.HasErrors() {
			return "", diags
		}
		v, err := convert.Convert(v, cty.String)
		if err != nil || v.IsNull() || v.IsMarked() {
			return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid matrix name", Detail: "name must evaluate to a string.", Subject: rng.Ptr()}}
		}
		name = v.AsString()
	} else {
		keys := make([]string, 0, len(row))
		for k := range row {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := []string{t.Name}
		for _, k := range keys {
			v, err := convert.Convert(row[k], cty.String)
			if err != nil || v.IsNull() {
				return "", hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Matrix needs a name",
					Detail:   fmt.Sprintf("The matrix value of %q is not a string, so bakeplan cannot name the targets; add a name attribute, like name = \"%s-${...}\".", k, t.Name),
					Subject:  t.Matrix.Range().Ptr(),
				}}
			}
			parts = append(parts, sanitizeName(v.AsString()))
		}
		name = strings.Join(parts, "-")
	}
	if !hclsyntax.ValidIdentifier(name) {
		return "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid matrix name",
			Detail:   fmt.Sprintf("%q is not a valid target name: use letters, digits, underscores and dashes, starting with a letter.", name),
			Subject:  rng.Ptr(),
		}}
	}
	return name, nil
}

// sanitizeName makes a matrix value part of a target name: characters a
// name cannot hold become dashes.
func sanitizeName(s string) string { return nameChars(s, '-') }

// resolveTarget finds the instance a reference names. A matrix target's label
// is ambiguous where one target is needed.
func (c *compilation) resolveTarget(name string, rng hcl.Range) (*instance, *hcl.Diagnostic) {
	if in, ok := c.byName[name]; ok {
		return in, nil
	}
	if ins, ok := c.matrix[name]; ok {
		var names []string
		for _, in := range ins {
			names = append(names, "target."+in.name)
		}
		return nil, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Reference to a matrix target",
			Detail:   fmt.Sprintf("target.%s expands to %d targets; name one of them here: %s.", name, len(ins), strings.Join(names, ", ")),
			Subject:  rng.Ptr(),
		}
	}
	return nil, unknownRef("target", "target", name, c.targetNames(), rng)
}

// resolveTargets is resolveTarget where a matrix target's label stands for all
// of its targets (groups and depends_on).
func (c *compilation) resolveTargets(name string, rng hcl.Range) ([]*instance, *hcl.Diagnostic) {
	if ins, ok := c.matrix[name]; ok {
		return ins, nil
	}
	in, d := c.resolveTarget(name, rng)
	if d != nil {
		return nil, d
	}
	return []*instance{in}, nil
}

func (c *compilation) targetNames() []string {
	names := make([]string, 0, len(c.byName)+len(c.matrix))
	for n := range c.byName {
		names = append(names, n)
	}
	for n := range c.matrix {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// walkTargets finds the references in every target block's attributes,
// on every core.
func (c *compilation) walkTargets() {
	decls := c.spec.Targets
	walked := make([]map[string][]hcl.Traversal, len(decls))
	par.Do(len(decls), func(i int) {
		m := make(map[string][]hcl.Traversal, len(decls[i].Attrs))
		for name, a := range decls[i].Attrs {
			m[name] = exprVariables(a.Expr)
		}
		walked[i] = m
	})
	c.attrRefs = make(map[*spec.Target]map[string][]hcl.Traversal, len(decls))
	for i, t := range decls {
		c.attrRefs[t] = walked[i]
	}
}

// refsOf is the references in expr, in's attribute name: walked already
// when expr is its target block's own (walkTargets), else walked now (an
// earlier file's layer).
func (c *compilation) refsOf(in *instance, name string, expr hcl.Expression) []hcl.Traversal {
	if a, ok := in.decl.Attrs[name]; ok && a.Expr == expr {
		if refs, ok := c.attrRefs[in.decl][name]; ok {
			return refs
		}
	}
	return exprVariables(expr)
}

// collectRefs finds the targets an instance's attributes read, which must be
// evaluated first.
func (c *compilation) collectRefs(in *instance) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[*instance]bool{}
	use := func(dep *instance) {
		if !seen[dep] {
			seen[dep] = true
			in.refs = append(in.refs, dep)
		}
	}
	refs := c.attrRefs[in.decl]
	for _, a := range spec.SortedAttrs(in.decl.Attrs) {
		for _, trav := range refs[a.Name] {
			if trav.RootName() != "target" {
				continue
			}
			name, rng := attrName(trav)
			if name == "" {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid reference", Detail: "A reference like target.NAME is expected.", Subject: trav.SourceRange().Ptr()})
				continue
			}
			dep, d := c.resolveTarget(name, rng)
			if d != nil {
				diags = append(diags, d)
				continue
			}
			if dep == in {
				// Reading one's own other attributes is no cycle; it
				// orders the target's attributes (evalInstance).
				if in.selfReads == nil {
					in.selfReads = map[string][]string{}
				}
				in.selfReads[a.Name] = append(in.selfReads[a.Name], selfAttr(trav))
				continue
			}
			use(dep)
		}
	}
	for _, r := range in.decl.Inherits {
		dep, d := c.resolveTarget(r.Name, r.Range)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		in.parents = append(in.parents, dep)
		use(dep)
	}
	return diags
}

// evalInstance evaluates in after everything it reads, reporting reference
// cycles between targets' attributes.
func (c *compilation) evalInstance(in *instance, stack []*instance) hcl.Diagnostics {
	switch in.state {
	case 2:
		return nil
	case 1:
		return cycleThrough(in, stack)
	}
	in.state = 1
	var diags hcl.Diagnostics
	stack = append(stack, in)
	for _, dep := range in.refs {
		diags = append(diags, c.evalInstance(dep, stack)...)
		if dep.failed {
			in.failed = true
		}
	}
	in.state = 2
	if in.computed {
		// Evaluated ahead (evalIndependent): it reads no other target,
		// so nothing was evaluated above, and it was prefetched.
		c.targets = append(c.targets, in)
		return in.early
	}
	if in.failed {
		return diags
	}
	diags = append(diags, c.computeInstance(in)...)
	c.targets = append(c.targets, in)
	c.prefetch(in)
	return diags
}

// computeInstance evaluates in's attributes, once what it reads is
// evaluated: its parents' values merged with its own.
func (c *compilation) computeInstance(in *instance) hcl.Diagnostics {
	var diags hcl.Diagnostics
	in.ctx = c.instanceCtx(in)
	in.exprs = make(map[string]hcl.Expression, len(in.decl.Attrs))
	attrs := c.inheritedAttrs(in)
	// What the parents set, for the target's own values to merge into.
	inherited := maps.Clone(attrs)
	var pending []spec.AttrDef
	for _, def := range spec.TargetAttributes {
		if _, ok := in.decl.Attrs[def.Name]; !ok {
			continue
		}
		if len(in.selfReads[def.Name]) > 0 {
			pending = append(pending, def)
			continue
		}
		diags = append(diags, c.evalAttr(in, def, in.ctx, attrs)...)
	}
	diags = append(diags, c.evalSelfReads(in, pending, attrs)...)
	diags = append(diags, c.mergeEarlierFiles(in, attrs)...)
	for name, base := range inherited {
		if _, own := in.decl.Attrs[name]; own {
			if v, ok := attrs[name]; ok {
				attrs[name] = inherit(name, base, v)
			}
		}
	}
	in.obj = attrs
	return diags
}

// cycleThrough is the error for in, reached again while it is evaluated:
// the targets on the stack from it read each other.
func cycleThrough(in *instance, stack []*instance) hcl.Diagnostics {
	i := 0
	for stack[i] != in {
		i++
	}
	var names []string
	for _, s := range stack[i:] {
		names = append(names, "target."+s.name)
	}
	names = append(names, "target."+in.name)
	in.failed = true
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Cycle in target references",
		Detail:   fmt.Sprintf("These targets' attributes or inherits read each other: %s.", strings.Join(names, " -> ")),
		Subject:  in.decl.DeclRange.Ptr(),
	}}
}

// plainContext is the context of targets that read only variables and
// locals, made once.
func (c *compilation) plainContext() *hcl.EvalContext {
	if c.plainCtx == nil {
		c.plainCtx = c.evalCtx(map[string]cty.Value{"target": cty.EmptyObjectVal})
	}
	return c.plainCtx
}

// instanceCtx is what in's expressions read: the targets it refers to and
// its matrix values, besides variables and locals.
func (c *compilation) instanceCtx(in *instance) *hcl.EvalContext {
	if len(in.refs) == 0 && len(in.matrixVars) == 0 {
		// Most targets read only variables and locals: they share one
		// context (expressions only read it).
		return c.plainContext()
	}
	refVals := map[string]cty.Value{}
	for _, dep := range in.refs {
		refVals[dep.name] = dep.object()
	}
	vars := map[string]cty.Value{"target": cty.ObjectVal(refVals)}
	for k, v := range in.matrixVars {
		vars[k] = v
	}
	return c.evalCtx(vars)
}

// inheritedAttrs are the values in's parents set, merged in order as
// inherits merges them; their expressions are recorded in in.exprs.
func (c *compilation) inheritedAttrs(in *instance) attrValues {
	attrs := make(attrValues, len(in.decl.Attrs))
	for _, def := range spec.TargetAttributes {
		for _, p := range in.parents {
			if v, ok := p.obj[def.Name]; ok {
				if prev, ok := attrs[def.Name]; ok {
					v = inherit(def.Name, prev, v)
				}
				attrs[def.Name] = v
				in.exprs[def.Name] = p.exprs[def.Name]
			}
		}
	}
	return attrs
}

// evalAttr evaluates one of in's attributes into attrs.
func (c *compilation) evalAttr(in *instance, def spec.AttrDef, ctx *hcl.EvalContext, attrs attrValues) hcl.Diagnostics {
	a := in.decl.Attrs[def.Name]
	if d := c.checkInputRefs(c.refsOf(in, def.Name, a.Expr), "var", "local"); d.HasErrors() {
		in.failed = true
		return d
	}
	v, diags := a.Expr.Value(ctx)
	if diags.HasErrors() {
		in.failed = true
		return diags
	}
	v, err := fromBakeForms(def.Name, v)
	if err == nil {
		var conv cty.Value
		conv, err = convertAttr(v, def.Type)
		v = conv
	}
	conv := v
	if err != nil {
		in.failed = true
		return append(diags, &hcl.Diagnostic{
			Severity:    hcl.DiagError,
			Summary:     "Incorrect attribute value type",
			Detail:      fmt.Sprintf("Inappropriate value for attribute %q: %s.", def.Name, err),
			Subject:     a.Expr.Range().Ptr(),
			Expression:  a.Expr,
			EvalContext: ctx,
		})
	}
	if !conv.IsWhollyKnown() {
		in.failed = true
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown value", Detail: fmt.Sprintf("The value of %q cannot be known while planning.", def.Name), Subject: a.Expr.Range().Ptr()})
	}
	if !conv.IsNull() {
		attrs[def.Name] = conv
		in.exprs[def.Name] = a.Expr
	}
	return diags
}

// evalSelfReads evaluates the attributes that read others of the same
// target, each once what it reads is known, with target.SELF bound to the
// attributes known so far. What is left reads itself, directly or through
// another attribute.
func (c *compilation) evalSelfReads(in *instance, pending []spec.AttrDef, attrs attrValues) hcl.Diagnostics {
	var diags hcl.Diagnostics
	done := map[string]bool{}
	for progress := true; progress && len(pending) > 0; {
		progress = false
		var left []spec.AttrDef
		for _, def := range pending {
			ready := true
			for _, r := range in.selfReads[def.Name] {
				_, waiting := in.selfReads[r]
				if r == "" || (waiting && !done[r]) {
					ready = false
				}
			}
			if !ready {
				left = append(left, def)
				continue
			}
			// target.SELF is what is known of the target so far.
			refs := map[string]cty.Value{}
			if t, ok := in.ctx.Variables["target"]; ok && t.Type().IsObjectType() {
				for k, v := range t.AsValueMap() {
					refs[k] = v
				}
			}
			refs[in.name] = attrs.object()
			diags = append(diags, c.evalAttr(in, def, withVariable(in.ctx, "target", cty.ObjectVal(refs)), attrs)...)
			done[def.Name] = true
			progress = true
		}
		pending = left
	}
	for _, def := range pending {
		in.failed = true
		detail := fmt.Sprintf("%s of target.%s reads %s of the same target, which waits for %s in turn.", def.Name, in.name, strings.Join(in.selfReads[def.Name], ", "), def.Name)
		for _, r := range in.selfReads[def.Name] {
			switch r {
			case "":
				detail = fmt.Sprintf("%s of target.%s reads the whole target, itself included; name the attribute it needs, like target.%s.platforms.", def.Name, in.name, in.name)
			case def.Name:
				detail = fmt.Sprintf("%s of target.%s reads its own value.", def.Name, in.name)
			}
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Attribute refers to itself",
			Detail:   detail,
			Subject:  in.decl.Attrs[def.Name].Expr.Range().Ptr(),
		})
	}
	return diags
}

// selfAttr is the attribute a reference like target.foo.tags reads, or ""
// for target.foo alone.
func selfAttr(trav hcl.Traversal) string {
	if len(trav) > 2 {
		if a, ok := trav[2].(hcl.TraverseAttr); ok {
			return a.Name
		}
	}
	return ""
}

// prefetch starts digesting a target's context as soon as its attributes
// are known, so that the I/O overlaps the evaluation of the other targets.
// It is only a head start: resolve checks the same paths properly.
func (c *compilation) prefetch(in *instance) {
	if len(c.opts.Select) > 0 {
		return // only part of the spec will be planned
	}
	str := func(name, def string) (string, bool) {
		v := in.obj.GetAttr(name)
		if v.IsNull() {
			return def, true
		}
		if v.IsMarked() {
			return "", false
		}
		return v.AsString(), true
	}
	ctxRel, ok := str("context", ".")
	if !ok {
		return
	}
	ctxDir, _, d := c.localPath(ctxRel, hcl.Range{}, true, "")
	if d.HasErrors() {
		return
	}
	if fi, ok := c.resolver.Info(ctxDir); ok {
		c.digests.Saw(ctxDir, fi) // resolving it just looked
	}
	dockerfile := ""
	if v := in.obj.GetAttr("dockerfile_inline"); v.IsNull() {
		df, ok := str("dockerfile", "Dockerfile")
		if !ok {
			return
		}
		if !path.IsAbs(df) {
			df = path.Join(ctxRel, df)
		}
		if dockerfile, _, d = c.localPath(df, hcl.Range{}, true, ""); d.HasErrors() {
			return
		}
	}
	c.digests.Prefetch(ctxDir, dockerfile)
}

// convertAttr converts an attribute's value to its declared type. The common
// shapes, a tuple of strings for a list and an object of strings for a map,
// are built directly: cty's general conversion works out a conversion plan
// on every call, which was most of evaluating a large spec's targets. Any
// other value (marked, unknown, null, other types) goes through cty.
func convertAttr(v cty.Value, want cty.Type) (cty.Value, error) {
	if v.Type().Equals(want) {
		return v, nil
	}
	if v.IsNull() || !v.IsKnown() || v.IsMarked() {
		return convert.Convert(v, want)
	}
	switch {
	case want.Equals(cty.List(cty.String)) && v.Type().IsTupleType():
		elems := v.AsValueSlice()
		if len(elems) == 0 || !allPlainStrings(elems) {
			return convert.Convert(v, want)
		}
		return cty.ListVal(elems), nil
	case want.Equals(cty.Map(cty.String)) && v.Type().IsObjectType():
		attrs := v.AsValueMap()
		if len(attrs) == 0 {
			return convert.Convert(v, want)
		}
		for _, a := range attrs {
			if !plainString(a) {
				return convert.Convert(v, want)
			}
		}
		return cty.MapVal(attrs), nil
	}
	return convert.Convert(v, want)
}

func allPlainStrings(vs []cty.Value) bool {
	for _, v := range vs {
		if !plainString(v) {
			return false
		}
	}
	return true
}

// plainString is a known, unmarked, non-null string.
func plainString(v cty.Value) bool {
	return v.Type() == cty.String && v.IsKnown() && !v.IsNull() && !v.IsMarked()
}
