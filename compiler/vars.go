package compiler

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// markSensitive marks values derived from a sensitive variable; cty carries
// the mark through every expression and function.
type valueMark string

const markSensitive valueMark = "sensitive"

// EnvPrefix starts the environment variables that set spec variables.
const EnvPrefix = "BAKEPLAN_VAR_"

type varSetting struct {
	val    cty.Value
	source string
	rng    *hcl.Range // nil for the environment and the command line
}

func (c *compilation) resolveVariables() hcl.Diagnostics {
	vs := &varSettings{c: c, declared: map[string]*spec.Variable{}, settings: map[string]varSetting{}}
	for _, v := range c.spec.Variables {
		vs.declared[v.Name] = v
		vs.names = append(vs.names, v.Name)
	}
	// Precedence, lowest first: default, environment (a bare NAME with
	// BakeEnv, then BAKEPLAN_VAR_NAME), files, a saved plan's, command line.
	if c.opts.BakeEnv {
		vs.fromBakeEnv()
	}
	vs.fromEnv()
	vs.fromFiles()
	vs.fromRecorded()
	vs.fromCLI()
	if vs.diags.HasErrors() {
		return vs.diags
	}
	vs.vals, vs.state = map[string]cty.Value{}, map[string]int{}
	for _, v := range c.spec.Variables {
		vs.resolve(v, nil)
	}
	sort.Slice(c.vars, func(i, j int) bool { return c.vars[i].Name < c.vars[j].Name })
	c.varObj = cty.ObjectVal(vs.vals)
	return vs.diags
}

// varSettings gathers the values given for the spec's variables, by where
// they come from, and resolves each variable once.
type varSettings struct {
	c        *compilation
	declared map[string]*spec.Variable
	names    []string
	settings map[string]varSetting
	diags    hcl.Diagnostics

	vals  map[string]cty.Value
	state map[string]int // 0 new, 1 being resolved, 2 done
}

// fromBakeEnv reads a bare NAME from the environment, as bake does.
func (vs *varSettings) fromBakeEnv() {
	c, declared, settings := vs.c, vs.declared, vs.settings
	var diags hcl.Diagnostics
	for _, kv := range c.opts.Environ {
		name, raw, _ := strings.Cut(kv, "=")
		v, ok := declared[name]
		if !ok {
			continue
		}
		c.noteSensitive(v, raw)
		val, err := bakeEnvValue(v.Type, raw)
		if err != nil {
			detail := fmt.Sprintf("the environment variable %s: %v.", name, err)
			if v.Sensitive {
				detail = fmt.Sprintf("the environment variable %s is not a valid %s in bake's form (it is sensitive, so it is not shown).", name, typeexpr.TypeString(v.Type))
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Invalid value for variable %q", name), Detail: detail})
			continue
		}
		settings[name] = varSetting{val: val, source: "env"}
	}
	vs.diags = append(vs.diags, diags...)
}

// fromEnv reads BAKEPLAN_VAR_NAME from the environment.
func (vs *varSettings) fromEnv() {
	c, declared, settings := vs.c, vs.declared, vs.settings
	var diags hcl.Diagnostics
	for _, kv := range c.opts.Environ {
		rest, ok := strings.CutPrefix(kv, EnvPrefix)
		if !ok {
			continue
		}
		name, raw, _ := strings.Cut(rest, "=")
		v, ok := declared[name]
		if !ok {
			continue // the environment is shared; stray entries are not ours
		}
		c.noteSensitive(v, raw)
		val, d := parseRawValue(v, raw, EnvPrefix+name)
		diags = append(diags, d...)
		settings[name] = varSetting{val: val, source: "env"}
	}
	vs.diags = append(vs.diags, diags...)
}

// fromFiles reads the --var-file files, in order.
func (vs *varSettings) fromFiles() {
	c, declared, settings, names := vs.c, vs.declared, vs.settings, vs.names
	var diags hcl.Diagnostics
	for _, attrs := range c.opts.VarFiles {
		for _, a := range spec.SortedAttrs(attrs) {
			if _, ok := declared[a.Name]; !ok {
				diags = append(diags, undeclared(a.Name, names, a.NameRange.Ptr()))
				continue
			}
			val, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			if v := declared[a.Name]; v.Sensitive {
				c.opts.Sensitive.addValue(val)
			}
			settings[a.Name] = varSetting{val: val, source: "file", rng: a.Expr.Range().Ptr()}
		}
	}
	vs.diags = append(vs.diags, diags...)
}

// fromRecorded reads a saved plan's values (not its sensitive ones, which
// it never holds, nor defaults, which the spec gives again).
func (vs *varSettings) fromRecorded() {
	c, declared, settings := vs.c, vs.declared, vs.settings
	var diags hcl.Diagnostics
	for _, rv := range c.opts.Recorded {
		v, ok := declared[rv.Name]
		if !ok || rv.Sensitive || rv.Source == "default" {
			continue
		}
		ty := v.Type
		if ty == cty.DynamicPseudoType {
			t, err := ctyjson.ImpliedType(rv.Value)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Invalid recorded value for variable %q", rv.Name), Detail: err.Error()})
				continue
			}
			ty = t
		}
		val, err := ctyjson.Unmarshal(rv.Value, ty)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Invalid recorded value for variable %q", rv.Name), Detail: fmt.Sprintf("The saved plan's value does not fit the spec's type: %s.", err)})
			continue
		}
		settings[rv.Name] = varSetting{val: val, source: rv.Source}
	}
	vs.diags = append(vs.diags, diags...)
}

// fromCLI reads --var NAME=VALUE.
func (vs *varSettings) fromCLI() {
	c, declared, settings, names := vs.c, vs.declared, vs.settings, vs.names
	var diags hcl.Diagnostics
	for _, assign := range c.opts.Vars {
		name, raw, ok := strings.Cut(assign, "=")
		if !ok || name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid --var",
				Detail:   fmt.Sprintf("%q is not NAME=VALUE.", assign),
			})
			continue
		}
		v, ok := declared[name]
		if !ok {
			diags = append(diags, undeclared(name, names, nil))
			continue
		}
		c.noteSensitive(v, raw)
		val, d := parseRawValue(v, raw, "--var "+name)
		diags = append(diags, d...)
		settings[name] = varSetting{val: val, source: "cli"}
	}
	vs.diags = append(vs.diags, diags...)
}

// resolve gives v its value: the one set, else its default. A default may
// read other variables (var.X), as in bake: each is resolved after what it
// reads; a cycle is an error.
func (vs *varSettings) resolve(v *spec.Variable, stack []string) {
	switch vs.state[v.Name] {
	case 2:
		return
	case 1:
		vs.diags = append(vs.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cycle in variable defaults",
			Detail:   fmt.Sprintf("These variables' defaults read each other: var.%s -> var.%s.", strings.Join(stack, " -> var."), v.Name),
			Subject:  v.DeclRange.Ptr(),
		})
		return
	}
	vs.state[v.Name] = 1
	defer func() { vs.state[v.Name] = 2 }()
	set, ok := vs.settings[v.Name]
	if !ok {
		if set, ok = vs.defaultOf(v, stack); !ok {
			return
		}
	}
	vs.settle(v, set)
}

// defaultOf evaluates v's default, after the variables it reads; false
// when there is none or it fails.
func (vs *varSettings) defaultOf(v *spec.Variable, stack []string) (varSetting, bool) {
	c := vs.c
	if v.Default == nil {
		vs.diags = append(vs.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("No value for required variable %q", v.Name),
			Detail:   fmt.Sprintf("var.%s has no default. Set it with --var %s=VALUE, a --var-file, or the environment variable %s%s.", v.Name, v.Name, EnvPrefix, v.Name),
			Subject:  v.DeclRange.Ptr(),
		})
		return varSetting{}, false
	}
	for _, trav := range v.Default.Variables() {
		if trav.RootName() != "var" || len(trav) < 2 {
			return varSetting{}, false
		}
		if attr, ok := trav[1].(hcl.TraverseAttr); ok && vs.declared[attr.Name] != nil {
			vs.resolve(vs.declared[attr.Name], append(stack, v.Name))
		}
	}
	val, d := v.Default.Value(&hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(vs.vals)}, Functions: c.funcs})
	vs.diags = append(vs.diags, d...)
	if d.HasErrors() {
		return varSetting{}, false
	}
	if v.Sensitive {
		c.opts.Sensitive.addValue(val)
	}
	return varSetting{val: val, source: "default", rng: v.Default.Range().Ptr()}, true
}

// settle converts v's value to its type and records it: in the plan (a
// sensitive one, or one derived from it, by fingerprint) and for
// expressions to read.
func (vs *varSettings) settle(v *spec.Variable, set varSetting) {
	c := vs.c
	var diags hcl.Diagnostics
	defer func() { vs.diags = append(vs.diags, diags...) }()
	val := set.val
	if v.TypeDefault != nil {
		val = v.TypeDefault.Apply(val)
	}
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		subj := set.rng
		if subj == nil {
			subj = v.DeclRange.Ptr()
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid value for variable %q", v.Name),
			Detail:   fmt.Sprintf("The value (from %s) is not a %s: %s.", sourceName(set.source), typeexpr.TypeString(v.Type), err),
			Subject:  subj,
		})
		return
	}
	// A default that reads a sensitive variable is sensitive too: its
	// value is never written into the plan.
	derived := !v.Sensitive && conv.ContainsMarked()
	if derived {
		conv, _ = conv.UnmarkDeep()
	}
	pv := &plan.Variable{Name: v.Name, Type: typeexpr.TypeString(v.Type), Source: set.source}
	raw, err := ctyjson.Marshal(conv, conv.Type())
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid value for variable %q", v.Name),
			Detail:   err.Error(),
			Subject:  v.DeclRange.Ptr(),
		})
		return
	}
	if v.Sensitive || derived {
		c.opts.Sensitive.addValue(conv)
		pv.Sensitive = true
		pv.Fingerprint = fingerprint("var."+v.Name, string(raw))
		conv = conv.Mark(markSensitive)
	} else {
		pv.Value = json.RawMessage(raw)
	}
	vs.vals[v.Name] = conv
	c.vars = append(c.vars, pv)
}

// parseRawValue reads a value given as text: a string variable takes it as
// it is, any other type parses it as an HCL expression, as Terraform does.
func parseRawValue(v *spec.Variable, raw, origin string) (cty.Value, hcl.Diagnostics) {
	if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	fail := func(detail string) (cty.Value, hcl.Diagnostics) {
		if v.Sensitive {
			// The parser's message may quote any part of the value.
			detail = fmt.Sprintf("%s: the value is not a valid %s expression (it is sensitive, so it is not shown).", origin, typeexpr.TypeString(v.Type))
		}
		return cty.DynamicVal, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Invalid value for variable %q", v.Name),
			Detail:   detail,
		}}
	}
	if d := spec.CheckNesting([]byte(raw), origin); d.HasErrors() {
		return fail(fmt.Sprintf("%s: %s", origin, d[0].Detail))
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), origin, hcl.InitialPos)
	if diags.HasErrors() {
		return fail(fmt.Sprintf("%s: %q is not a valid %s expression.", origin, raw, typeexpr.TypeString(v.Type)))
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return fail(fmt.Sprintf("%s: %s", origin, diags.Error()))
	}
	return val, nil
}

// noteSensitive records a raw value given for a sensitive variable.
func (c *compilation) noteSensitive(v *spec.Variable, raw string) {
	if v.Sensitive {
		c.opts.Sensitive.add(raw)
	}
}

func sourceName(s string) string {
	switch s {
	case "env":
		return "the environment"
	case "file":
		return "a variable file"
	case "cli":
		return "--var"
	}
	return "its default"
}

func undeclared(name string, names []string, rng *hcl.Range) *hcl.Diagnostic {
	detail := fmt.Sprintf("The spec declares no variable %q.", name)
	if s := suggest(name, names); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	}
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable", Detail: detail, Subject: rng}
}

// fingerprint identifies a sensitive value without revealing it. It is an
// unsalted SHA-256: enough to show that a value changed, not a way to keep a
// guessable secret; credentials belong in build secrets, which never reach
// the plan.
func fingerprint(name, value string) string {
	sum := sha256.Sum256([]byte("bakeplan-sensitive\x00" + name + "\x00" + value))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (c *compilation) validateVariables() hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": c.varObj}, Functions: c.funcs}
	for _, v := range c.spec.Variables {
		for _, val := range v.Validations {
			res, d := val.Condition.Value(ctx)
			if d.HasErrors() {
				diags = append(diags, d...)
				continue
			}
			res, _ = res.Unmark()
			if res.IsNull() || !res.IsKnown() || res.Type() != cty.Bool {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid validation condition",
					Detail:   "The condition must be true or false.",
					Subject:  val.Condition.Range().Ptr(),
				})
				continue
			}
			if res.True() {
				continue
			}
			msg, d := val.ErrorMessage.Value(ctx)
			text := fmt.Sprintf("The value of var.%s does not pass its validation.", v.Name)
			switch {
			case d.HasErrors():
			case msg.ContainsMarked():
				// As Terraform does: a message built from a sensitive
				// value is not shown at all, whatever it did to the value.
				text = fmt.Sprintf("The value of var.%s does not pass its validation. The error message refers to a sensitive value, so it is not shown.", v.Name)
			default:
				if m, err := convert.Convert(msg, cty.String); err == nil && !m.IsNull() && m.IsKnown() {
					text = m.AsString()
				}
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Invalid value for variable %q", v.Name),
				Detail:   text,
				Subject:  val.Condition.Range().Ptr(),
				Context:  val.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

// bakeEnvValue reads a variable from a bare environment variable the way
// bake does (buildx v0.38.2): a string as is; a bool or number parsed; a
// list, set or tuple of primitives as CSV; a map of primitives as CSV of
// KEY:VALUE pairs. An untyped variable is a string.
func bakeEnvValue(ty cty.Type, raw string) (cty.Value, error) {
	if ty.IsPrimitiveType() || ty.Equals(cty.DynamicPseudoType) {
		return bakePrimitive(ty, raw)
	}
	fields, err := csv.NewReader(strings.NewReader(raw)).Read()
	if err == io.EOF {
		fields, err = nil, nil
	}
	if err != nil {
		return cty.NilVal, fmt.Errorf("not CSV: %v", err)
	}
	switch {
	case ty.IsListType() || ty.IsSetType():
		return bakeCollection(ty, fields)
	case ty.IsTupleType():
		types := ty.TupleElementTypes()
		if len(types) != len(fields) {
			return cty.NilVal, fmt.Errorf("%s takes %d elements, not %d", typeexpr.TypeString(ty), len(types), len(fields))
		}
		var elems []cty.Value
		for i, f := range fields {
			v, err := bakePrimitive(types[i], f)
			if err != nil {
				return cty.NilVal, err
			}
			elems = append(elems, v)
		}
		return cty.TupleVal(elems), nil
	case ty.IsMapType():
		return bakeMap(ty, fields)
	}
	return cty.NilVal, fmt.Errorf("a %s cannot be set from the environment in bake's form", typeexpr.TypeString(ty))
}

// bakePrimitive is a string, bool or number from the environment.
func bakePrimitive(t cty.Type, s string) (cty.Value, error) {
	switch {
	case t.Equals(cty.String) || t.Equals(cty.DynamicPseudoType):
		return cty.StringVal(s), nil
	case t.Equals(cty.Bool):
		b, err := strconv.ParseBool(s)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%q is not a bool", s)
		}
		return cty.BoolVal(b), nil
	case t.Equals(cty.Number):
		n, err := cty.ParseNumberVal(s)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%q is not a number", s)
		}
		return n, nil
	}
	return cty.NilVal, fmt.Errorf("a %s cannot be set from the environment in bake's form", typeexpr.TypeString(t))
}

// bakeCollection is a list or set from CSV fields.
func bakeCollection(ty cty.Type, fields []string) (cty.Value, error) {
	var elems []cty.Value
	for _, f := range fields {
		v, err := bakePrimitive(ty.ElementType(), f)
		if err != nil {
			return cty.NilVal, err
		}
		elems = append(elems, v)
	}
	switch {
	case len(elems) == 0 && ty.IsListType():
		return cty.ListValEmpty(ty.ElementType()), nil
	case len(elems) == 0:
		return cty.SetValEmpty(ty.ElementType()), nil
	case ty.IsListType():
		return cty.ListVal(elems), nil
	}
	return cty.SetVal(elems), nil
}

// bakeMap is a map from CSV fields of KEY:VALUE.
func bakeMap(ty cty.Type, fields []string) (cty.Value, error) {
	m := map[string]cty.Value{}
	for _, f := range fields {
		k, val, ok := strings.Cut(f, ":")
		if !ok {
			return cty.NilVal, fmt.Errorf("%q is not KEY:VALUE", f)
		}
		v, err := bakePrimitive(ty.ElementType(), val)
		if err != nil {
			return cty.NilVal, err
		}
		m[k] = v
	}
	if len(m) == 0 {
		return cty.MapValEmpty(ty.ElementType()), nil
	}
	return cty.MapVal(m), nil
}
