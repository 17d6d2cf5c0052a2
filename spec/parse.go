package spec

import (
	"context"
	"fmt"
	"strings"

	"github.com/bakeplan/bakeplan/internal/par"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Parse parses src as the spec file filename. A name ending in ".json" is read
// as HCL's JSON syntax, anything else as native syntax. The parser keeps the
// file so that diagnostics can show its source; pass the same parser to the
// diagnostic writer.
//
// On a syntax error Parse returns a nil Spec. Otherwise it returns a Spec even
// when decoding reported errors, holding every block it could read, so that
// the compiler can report its own findings in the same run; such a spec must
// never produce a plan.
func Parse(p *hclparse.Parser, filename string, src []byte) (*Spec, hcl.Diagnostics) {
	return ParseContext(context.Background(), p, filename, src, nil)
}

// ParseContext is Parse that stops early, with an error diagnostic, once
// ctx is done: a spec of many thousand targets takes a second to parse.
// With a cache, pieces of the file parsed before are read back from it,
// and the others are kept in it.
func ParseContext(ctx context.Context, p *hclparse.Parser, filename string, src []byte, cache SyntaxCache) (*Spec, hcl.Diagnostics) {
	if d := CheckNesting(src, filename); d.HasErrors() {
		return nil, d
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(filename, ".json") {
		f, diags = p.ParseJSON(src, filename)
	} else {
		f, diags = parseNative(ctx, p, src, filename, cache)
	}
	if diags.HasErrors() || f == nil {
		return nil, diags
	}
	s := &Spec{Filename: filename, Source: src}
	diags = append(diags, s.decode(ctx, f.Body)...)
	if err := ctx.Err(); err != nil {
		return nil, interrupted(err)
	}
	return s, diags
}

func interrupted(err error) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Interrupted",
		Detail:   fmt.Sprintf("Reading the spec was stopped (%v) before it finished.", err),
	}}
}

func (s *Spec) decode(ctx context.Context, body hcl.Body) hcl.Diagnostics {
	content, diags := body.Content(rootSchema)
	names := &uniqueNames{seen: map[string]map[string]hcl.Range{}}
	// Targets are most of a large spec and decode independently: do them
	// on every core first, by index, then take them in order below.
	targets := make([]*Target, len(content.Blocks))
	targetDiags := make([]hcl.Diagnostics, len(content.Blocks))
	par.Do(len(content.Blocks), func(i int) {
		if ctx.Err() != nil {
			return
		}
		if b := content.Blocks[i]; b.Type == "target" && len(b.Labels) == 1 {
			targets[i], targetDiags[i] = decodeTarget(b)
		}
	})
	for i, b := range content.Blocks {
		if len(b.Labels) == 1 {
			if !validName(b, &diags) || !names.unique(b.Type, b.Labels[0], b.DefRange, &diags) {
				continue
			}
		}
		switch b.Type {
		case "variable":
			v, d := decodeVariable(b)
			diags = append(diags, d...)
			s.Variables = append(s.Variables, v)
		case "locals":
			diags = append(diags, s.decodeLocals(b, names)...)
		case "function":
			f, d := decodeFunction(b)
			diags = append(diags, d...)
			if f != nil {
				s.Functions = append(s.Functions, f)
			}
		case "host":
			diags = append(diags, s.decodeHostOnce(b)...)
		case "release":
			diags = append(diags, s.decodeRelease(b)...)
		case "builder":
			bl, d := decodeBuilder(b)
			diags = append(diags, d...)
			s.Builders = append(s.Builders, bl)
		case "registry":
			c, d := b.Body.Content(registrySchema)
			diags = append(diags, d...)
			s.Registries = append(s.Registries, &Registry{
				Name: b.Labels[0], Host: attrExpr(c, "host"), Insecure: attrExpr(c, "insecure"),
				CACert: attrExpr(c, "ca_cert"), Cert: attrExpr(c, "cert"), Key: attrExpr(c, "key"), DeclRange: b.DefRange,
			})
		case "target":
			diags = append(diags, targetDiags[i]...)
			s.Targets = append(s.Targets, targets[i])
		case "group":
			g, d := decodeGroup(b)
			diags = append(diags, d...)
			s.Groups = append(s.Groups, g)
		}
	}
	return diags
}

// uniqueNames are the names declared so far, by kind of block.
type uniqueNames struct {
	seen map[string]map[string]hcl.Range
}

// unique records a name, or reports it as declared twice.
func (u *uniqueNames) unique(kind, name string, rng hcl.Range, diags *hcl.Diagnostics) bool {
	if u.seen[kind] == nil {
		u.seen[kind] = map[string]hcl.Range{}
	}
	if prev, ok := u.seen[kind][name]; ok {
		*diags = append(*diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Duplicate %s %q", kind, name),
			Detail:   fmt.Sprintf("A %s named %q was already declared at %s. Each %s needs a unique name.", kind, name, prev, kind),
			Subject:  rng.Ptr(),
		})
		return false
	}
	u.seen[kind][name] = rng
	return true
}

// decodeLocals adds a locals block's values, each name declared once
// across all locals blocks.
func (s *Spec) decodeLocals(b *hcl.Block, names *uniqueNames) hcl.Diagnostics {
	attrs, diags := b.Body.JustAttributes()
	for _, a := range SortedAttrs(attrs) {
		if !names.unique("local value", a.Name, a.NameRange, &diags) {
			continue
		}
		s.Locals = append(s.Locals, &Local{Name: a.Name, Expr: a.Expr, DeclRange: a.Range})
	}
	return diags
}

// decodeHostOnce reads the host block; a spec has at most one.
func (s *Spec) decodeHostOnce(b *hcl.Block) hcl.Diagnostics {
	if s.Host != nil {
		return duplicateBlock(b, s.Host.DeclRange)
	}
	h, diags := decodeHost(b)
	s.Host = h
	return diags
}

// decodeRelease reads the release block; a spec has at most one.
func (s *Spec) decodeRelease(b *hcl.Block) hcl.Diagnostics {
	if s.Release != nil {
		return duplicateBlock(b, s.Release.DeclRange)
	}
	c, diags := b.Body.Content(releaseSchema)
	s.Release = &Release{SourceDateEpoch: attrExpr(c, "source_date_epoch"), AllowDirty: attrExpr(c, "allow_dirty"), DeclRange: b.DefRange}
	return diags
}

// duplicateBlock is the error for a second block of a kind a spec has at
// most one of, the first declared at prev.
func duplicateBlock(b *hcl.Block, prev hcl.Range) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s block", b.Type),
		Detail:   fmt.Sprintf("A %s block was already declared at %s; a spec has at most one.", b.Type, prev),
		Subject:  b.DefRange.Ptr(),
	}}
}

// decodeBuilder reads a builder block and its tls block.
func decodeBuilder(b *hcl.Block) (*Builder, hcl.Diagnostics) {
	c, diags := b.Body.Content(builderSchema)
	bl := &Builder{
		Name: b.Labels[0], Endpoint: attrExpr(c, "endpoint"), Nodes: attrExpr(c, "nodes"), MaxSolves: attrExpr(c, "max_solves"),
		Platforms: attrExpr(c, "platforms"), DeclRange: b.DefRange,
	}
	tb, dups := onlyOne(c.Blocks, "tls")
	if tb != nil {
		tc, d := tb.Body.Content(tlsSchema)
		diags = append(diags, d...)
		bl.TLS = &BuilderTLS{
			CACert: attrExpr(tc, "ca_cert"), Cert: attrExpr(tc, "cert"), Key: attrExpr(tc, "key"),
			ServerName: attrExpr(tc, "server_name"), DeclRange: tb.DefRange,
		}
	}
	return bl, append(diags, dups...)
}

// validName insists that block labels are identifiers, because other blocks
// refer to them as kind.NAME.
func validName(b *hcl.Block, diags *hcl.Diagnostics) bool {
	if hclsyntax.ValidIdentifier(b.Labels[0]) {
		return true
	}
	*diags = append(*diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s name", b.Type),
		Detail:   fmt.Sprintf("%q is not a valid name: a name starts with a letter or underscore and holds only letters, digits, underscores and dashes, so that it can be referenced as %s.NAME.", b.Labels[0], b.Type),
		Subject:  b.LabelRanges[0].Ptr(),
	})
	return false
}

func attrExpr(c *hcl.BodyContent, name string) hcl.Expression {
	if a, ok := c.Attributes[name]; ok {
		return a.Expr
	}
	return nil
}

func decodeVariable(b *hcl.Block) (*Variable, hcl.Diagnostics) {
	v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType, DeclRange: b.DefRange}
	c, diags := b.Body.Content(variableSchema)
	if a, ok := c.Attributes["type"]; ok {
		ty, def, d := typeexpr.TypeConstraintWithDefaults(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.Type, v.TypeDefault = ty, def
		}
	}
	if a, ok := c.Attributes["default"]; ok {
		v.Default = a.Expr
	}
	if a, ok := c.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(a.Expr, nil, &v.Description)...)
	}
	if a, ok := c.Attributes["sensitive"]; ok {
		diags = append(diags, gohcl.DecodeExpression(a.Expr, nil, &v.Sensitive)...)
	}
	for _, vb := range c.Blocks {
		vc, d := vb.Body.Content(validationSchema)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v.Validations = append(v.Validations, &Validation{
			Condition:    vc.Attributes["condition"].Expr,
			ErrorMessage: vc.Attributes["error_message"].Expr,
			DeclRange:    vb.DefRange,
		})
	}
	return v, diags
}

func decodeFunction(b *hcl.Block) (*Function, hcl.Diagnostics) {
	c, diags := b.Body.Content(functionSchema)
	if diags.HasErrors() {
		return nil, diags
	}
	f := &Function{Name: b.Labels[0], Result: c.Attributes["result"].Expr, DeclRange: b.DefRange}
	names := map[string]bool{}
	param := func(e hcl.Expression) string {
		name := hcl.ExprAsKeyword(e)
		if name == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid function parameter",
				Detail:   "A parameter is a bare name, like params = [name, version].",
				Subject:  e.Range().Ptr(),
			})
			return ""
		}
		if names[name] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate function parameter",
				Detail:   fmt.Sprintf("The parameter %q is declared twice.", name),
				Subject:  e.Range().Ptr(),
			})
		}
		names[name] = true
		return name
	}
	exprs, d := hcl.ExprList(c.Attributes["params"].Expr)
	diags = append(diags, d...)
	for _, e := range exprs {
		f.Params = append(f.Params, param(e))
	}
	if a, ok := c.Attributes["variadic_param"]; ok {
		f.Variadic = param(a.Expr)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return f, diags
}

func decodeHost(b *hcl.Block) (*Host, hcl.Diagnostics) {
	c, diags := b.Body.Content(hostSchema)
	h := &Host{Emulators: attrExpr(c, "emulators"), DeclRange: b.DefRange}
	db, dups := onlyOne(c.Blocks, "docker")
	if db != nil {
		dc, d := db.Body.Content(dockerSchema)
		diags = append(diags, d...)
		h.Docker = &Docker{
			ImageStore: attrExpr(dc, "image_store"), DaemonConfig: attrExpr(dc, "daemon_config"),
			RestartCommand: attrExpr(dc, "restart_command"), DeclRange: db.DefRange,
		}
	}
	return h, append(diags, dups...)
}

// onlyOne returns the first of a body's nested blocks of one kind, which may
// appear at most once, and an error at each further one.
func onlyOne(blocks hcl.Blocks, kind string) (*hcl.Block, hcl.Diagnostics) {
	if len(blocks) == 0 {
		return nil, nil
	}
	var diags hcl.Diagnostics
	for _, b := range blocks[1:] {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("Duplicate %s block", kind),
			Detail:   fmt.Sprintf("A %s block was already declared at %s.", kind, blocks[0].DefRange),
			Subject:  b.DefRange.Ptr(),
		})
	}
	return blocks[0], diags
}

func decodeGroup(b *hcl.Block) (*Group, hcl.Diagnostics) {
	c, diags := b.Body.Content(groupSchema)
	g := &Group{Name: b.Labels[0], DeclRange: b.DefRange}
	if a, ok := c.Attributes["description"]; ok {
		diags = append(diags, gohcl.DecodeExpression(a.Expr, nil, &g.Description)...)
	}
	if a, ok := c.Attributes["targets"]; ok {
		refs, d := decodeRefList(a.Expr, "target", "group")
		if d.HasErrors() {
			// Names computed from variables: the compiler evaluates them.
			g.Expr = a.Expr
			return g, diags
		}
		g.Targets = refs
	}
	return g, diags
}

func decodeTarget(b *hcl.Block) (*Target, hcl.Diagnostics) {
	c, diags := b.Body.Content(targetSchema)
	t := &Target{Name: b.Labels[0], DeclRange: b.DefRange, TypeRange: b.LabelRanges[0], Attrs: hcl.Attributes{}}
	for _, a := range SortedAttrs(c.Attributes) {
		switch name := a.Name; name {
		case attrInherits:
			refs, d := decodeRefList(a.Expr, "target")
			diags = append(diags, d...)
			t.Inherits = refs
		case attrDependsOn:
			refs, d := decodeRefList(a.Expr, "target")
			diags = append(diags, d...)
			t.DependsOn = refs
		case attrBuilder:
			ref, d := decodeRef(a.Expr, "builder")
			diags = append(diags, d...)
			if !d.HasErrors() {
				t.Builder = &ref
			}
		case attrContexts:
			ctxs, d := decodeContexts(a.Expr)
			diags = append(diags, d...)
			t.Contexts = ctxs
		case attrMatrix:
			t.Matrix = a.Expr
		case attrName:
			t.NameExpr = a.Expr
		default:
			t.Attrs[name] = a
		}
	}
	if t.NameExpr != nil && t.Matrix == nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "name without matrix",
			Detail:   "The name attribute names each target a matrix expands to; a target without a matrix is named by its label.",
			Subject:  t.NameExpr.Range().Ptr(),
		})
	}
	return t, diags
}

func decodeContexts(expr hcl.Expression) ([]*NamedContext, hcl.Diagnostics) {
	pairs, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid contexts",
			Detail:   `contexts is written as a map, like { base = target.base, assets = "./assets", alpine = "docker-image://alpine:3.20" }.`,
			Subject:  expr.Range().Ptr(),
		}}
	}
	var out []*NamedContext
	seen := map[string]bool{}
	for _, p := range pairs {
		var name string
		d := gohcl.DecodeExpression(p.Key, nil, &name)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		rng := hcl.RangeBetween(p.Key.Range(), p.Value.Range())
		if seen[name] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate named context",
				Detail:   fmt.Sprintf("The context %q is given twice.", name),
				Subject:  p.Key.Range().Ptr(),
			})
			continue
		}
		seen[name] = true
		nc := &NamedContext{Name: name, DeclRange: rng}
		if trav, td := hcl.AbsTraversalForExpr(p.Value); !td.HasErrors() && trav.RootName() == "target" {
			ref, d := refFromTraversal(trav, p.Value.Range(), "target")
			diags = append(diags, d...)
			nc.Target = &ref
		} else {
			nc.Expr = p.Value
		}
		out = append(out, nc)
	}
	return out, diags
}

func decodeRefList(expr hcl.Expression, kinds ...string) ([]Ref, hcl.Diagnostics) {
	exprs, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid reference list",
			Detail:   fmt.Sprintf("A list of references is expected here, like [%s.NAME].", kinds[0]),
			Subject:  expr.Range().Ptr(),
		}}
	}
	var refs []Ref
	for _, e := range exprs {
		r, d := decodeRef(e, kinds...)
		diags = append(diags, d...)
		if !d.HasErrors() {
			refs = append(refs, r)
		}
	}
	return refs, diags
}

func decodeRef(expr hcl.Expression, kinds ...string) (Ref, hcl.Diagnostics) {
	trav, diags := hcl.AbsTraversalForExpr(expr)
	if diags.HasErrors() {
		return Ref{}, hcl.Diagnostics{badRef(expr.Range(), kinds)}
	}
	return refFromTraversal(trav, expr.Range(), kinds...)
}

func refFromTraversal(trav hcl.Traversal, rng hcl.Range, kinds ...string) (Ref, hcl.Diagnostics) {
	if len(trav) != 2 {
		return Ref{}, hcl.Diagnostics{badRef(rng, kinds)}
	}
	attr, ok := trav[1].(hcl.TraverseAttr)
	if !ok {
		return Ref{}, hcl.Diagnostics{badRef(rng, kinds)}
	}
	root := trav.RootName()
	for _, k := range kinds {
		if root == k {
			return Ref{Kind: k, Name: attr.Name, Range: rng}, nil
		}
	}
	return Ref{}, hcl.Diagnostics{badRef(rng, kinds)}
}

func badRef(rng hcl.Range, kinds []string) *hcl.Diagnostic {
	var want []string
	for _, k := range kinds {
		want = append(want, k+".NAME")
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid reference",
		Detail:   fmt.Sprintf("A reference like %s is expected here.", strings.Join(want, " or ")),
		Subject:  rng.Ptr(),
	}
}

// SortedAttrs orders attributes by source position, so that whatever walks
// them (decoding here, evaluation in the compiler) reports in file order
// rather than map order.
func SortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sortByRange(out, func(a *hcl.Attribute) hcl.Range { return a.Range })
	return out
}
