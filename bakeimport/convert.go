package bakeimport

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// File is one bake file: HCL, or JSON when its name ends in .json.
type File struct {
	Name string // as given, for diagnostics
	Data []byte
}

// Result is the translated specs, one per bake file in the order given,
// and what could not be carried over.
type Result struct {
	Specs    [][]byte
	Warnings hcl.Diagnostics // at the bake lines they are about
}

// Convert translates bake files into bakeplan specs, one for each, read as
// bake reads them together: a later file may name the variables and
// targets of an earlier one, and define a block again, which bakeplan
// merges when the specs are given with -f in the same order, as bake
// merges the files. A file that does not parse, or that defines a block
// twice itself, is an error diagnostic; nothing is returned then. env is
// what compose files are interpolated from, as bake interpolates them (the
// environment, with a .env file's values under it), and what computed
// names are read with.
func Convert(ctx context.Context, files []File, env map[string]string) (*Result, hcl.Diagnostics) {
	var (
		diags  hcl.Diagnostics
		parsed []*source
	)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, interrupted(err)
		}
		src, d := parse(ctx, f, env)
		diags = append(diags, d...)
		if src != nil {
			parsed = append(parsed, src)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	n, d := collectNames(parsed, env)
	if d.HasErrors() {
		return nil, d
	}
	res := &Result{}
	for _, src := range parsed {
		if err := ctx.Err(); err != nil {
			return nil, interrupted(err)
		}
		c := &conv{src: src, names: n}
		c.topLevel(src.body)
		spec := hclwrite.Format(c.apply())
		// What we wrote must parse: a failure here is a bug in this
		// package, said as one rather than handed on as a broken spec.
		if _, d := hclsyntax.ParseConfig(spec, "imported", hcl.InitialPos); d.HasErrors() {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Import produced HCL that does not parse",
				Detail: "This is a bug in bakeplan import: " + d.Error()}}
		}
		res.Specs = append(res.Specs, spec)
		res.Warnings = append(res.Warnings, src.remap(c.warns)...)
	}
	return res, nil
}

func interrupted(err error) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Interrupted", Detail: err.Error()}}
}

// source is one parsed bake file. A JSON file is parsed as the HCL this
// package writes for it first; origin maps that text's lines back to the
// JSON's.
type source struct {
	name   string
	text   []byte
	body   *hclsyntax.Body
	origin map[int]hcl.Pos // HCL line -> JSON position; nil for HCL
}

func parse(ctx context.Context, f File, env map[string]string) (*source, hcl.Diagnostics) {
	src := &source{name: f.Name, text: f.Data}
	// JSON and compose files are read as the bake HCL they stand for.
	var d hcl.Diagnostics
	switch {
	case strings.HasSuffix(strings.ToLower(f.Name), ".json"):
		src.text, src.origin, d = jsonToHCL(f)
	case isCompose(f.Name):
		src.text, src.origin, d = composeToHCL(ctx, f, env)
	}
	if d.HasErrors() {
		return nil, d
	}
	// HCL's parser recurses once per bracket: bound the depth first.
	if d := spec.CheckNesting(src.text, f.Name); d.HasErrors() {
		return nil, src.remap(d)
	}
	file, d := hclsyntax.ParseConfig(src.text, f.Name, hcl.InitialPos)
	if d.HasErrors() {
		return nil, src.remap(d)
	}
	src.body = file.Body.(*hclsyntax.Body)
	return src, nil
}

// remap points diagnostics at the JSON lines the HCL text was made from.
func (s *source) remap(diags hcl.Diagnostics) hcl.Diagnostics {
	if s.origin == nil {
		return diags
	}
	for _, d := range diags {
		for _, r := range []*hcl.Range{d.Subject, d.Context} {
			if r == nil {
				continue
			}
			// The nearest line at or above that came from the JSON:
			// an object's lines belong to its attribute.
			for l := r.Start.Line; l > 0; l-- {
				if p, ok := s.origin[l]; ok {
					*r = hcl.Range{Filename: s.name, Start: p, End: p}
					break
				}
			}
		}
	}
	return diags
}

// edit replaces text[start:end] of a source.
type edit struct {
	start, end int
	text       string
}

// conv translates one file by edits to its text.
type conv struct {
	src   *source
	names *names
	edits []edit
	warns hcl.Diagnostics
}

func (c *conv) replace(r hcl.Range, text string) {
	c.edits = append(c.edits, edit{r.Start.Byte, r.End.Byte, text})
}

func (c *conv) apply() []byte {
	out := splice(c.src.text, 0, len(c.src.text), c.edits)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return out
}

// splice is text[from:to] with the edits made, in the order of their
// starts; an edit inside one already made is dropped (attribute-level
// edits never overlap).
func splice(text []byte, from, to int, edits []edit) []byte {
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out bytes.Buffer
	at := from
	for _, e := range edits {
		if e.start < at {
			continue
		}
		out.Write(text[at:e.start])
		out.WriteString(e.text)
		at = e.end
		if strings.Contains(e.text, "\n") && !endsLine(text[at:]) {
			// Text of several lines (a note, a commented-out attribute)
			// inside a one-line block: what followed it on its line,
			// such as the block's closing brace, goes on the next.
			out.WriteByte('\n')
		}
	}
	out.Write(text[at:to])
	return out.Bytes()
}

func (c *conv) text(r hcl.Range) string {
	return string(c.src.text[r.Start.Byte:r.End.Byte])
}

func (c *conv) warn(r hcl.Range, summary, detail string) {
	r2 := r
	c.warns = append(c.warns, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail, Subject: &r2})
}

// commentOut replaces r with its text as comments under a "# bakeplan:"
// note, and warns at r.
func (c *conv) commentOut(r hcl.Range, summary, why string) {
	c.warn(r, summary, why)
	var b strings.Builder
	fmt.Fprintf(&b, "# bakeplan: %s\n", oneLine(why))
	for i, l := range strings.Split(c.text(r), "\n") {
		if i > 0 {
			b.WriteByte('\n')
			// Keep the indentation inside the text, less the first
			// line's.
			for n := 1; n < r.Start.Column && l != "" && (l[0] == ' ' || l[0] == '\t'); n++ {
				l = l[1:]
			}
		}
		b.WriteString("# " + l)
	}
	c.replace(r, b.String())
}

// noted is an attribute's new text under a "# bakeplan:" note.
func noted(note, text string) string {
	if note == "" {
		return text
	}
	return "# bakeplan: " + oneLine(note) + "\n" + text
}

// endsLine reports whether rest starts with the end of its line: spaces,
// then a newline, the end of the file or a comment.
func endsLine(rest []byte) bool {
	for _, c := range rest {
		switch c {
		case ' ', '\t', '\r':
			continue
		case '\n', '#':
			return true
		case '/':
			return true // a // or /* comment; HCL has no other use here
		}
		return false
	}
	return true
}

// hclList writes elements as an HCL list, one per line when the bake list
// spanned several.
func hclList(elems []string, multiline bool) string {
	if !multiline || len(elems) == 0 {
		return "[" + strings.Join(elems, ", ") + "]"
	}
	return "[\n" + strings.Join(elems, ",\n") + ",\n]"
}

func multiline(e hclsyntax.Expression) bool {
	r := e.Range()
	return r.Start.Line != r.End.Line
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (c *conv) topLevel(body *hclsyntax.Body) {
	for _, a := range sortedAttrs(body) {
		// bake reads a top-level attribute as a variable with that default.
		c.replace(a.SrcRange, fmt.Sprintf("variable %s {\n  default = %s\n}", quote(a.Name), c.expr(a.Expr, nil)))
	}
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			c.variable(b)
		case "function":
			c.function(b)
		case "target":
			c.target(b)
		case "group":
			c.group(b)
		default:
			c.commentOut(b.Range(), "Block bake ignores", fmt.Sprintf("bake reads no %q block at the top level, so it is left out.", b.Type))
		}
	}
}

func sortedAttrs(body *hclsyntax.Body) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte })
	return out
}

// ignoredBlocks comments out the blocks of a body bake does not read
// (bake drops them silently, so the translation must not keep them).
func (c *conv) ignoredBlocks(body *hclsyntax.Body, kind string, allowed ...string) {
	for _, b := range body.Blocks {
		if !slices.Contains(allowed, b.Type) {
			c.commentOut(b.Range(), "Block bake ignores", fmt.Sprintf("bake ignores the %q block in a %s, so it is left out.", b.Type, kind))
		}
	}
}

func (c *conv) variable(b *hclsyntax.Block) {
	if b.Body.Attributes["default"] == nil {
		// bake gives a variable without a default "" (null when typed);
		// bakeplan would require a value.
		def, why := `""`, "bake's value for a variable without a default is the empty string"
		if b.Body.Attributes["type"] != nil {
			def, why = "null", "bake's value for a typed variable without a default is null"
		}
		r := b.CloseBraceRange
		c.edits = append(c.edits, edit{r.Start.Byte, r.Start.Byte, "\n# bakeplan: " + why + "\ndefault = " + def})
	}
	for _, a := range sortedAttrs(b.Body) {
		switch a.Name {
		case "type":
			// A type constraint's names (string, list) are not variables.
		case "default", "description":
			c.rewrite(a, a.Name, nil)
		default:
			c.commentOut(a.SrcRange, "Attribute bake ignores", fmt.Sprintf("bake ignores %q in a variable, so it is left out.", a.Name))
		}
	}
	for _, v := range b.Body.Blocks {
		if v.Type != "validation" {
			continue
		}
		for _, a := range sortedAttrs(v.Body) {
			c.rewrite(a, a.Name, nil)
		}
	}
	c.ignoredBlocks(b.Body, "variable", "validation")
}

func (c *conv) function(b *hclsyntax.Block) {
	local := map[string]bool{}
	attrs := b.Body.Attributes
	for _, name := range []string{"params", "variadic_params"} {
		a := attrs[name]
		if a == nil {
			continue
		}
		for _, t := range hclsyntax.Variables(a.Expr) {
			local[t.RootName()] = true
		}
		if name == "variadic_params" {
			c.replace(a.SrcRange, "variadic_param = "+c.text(a.Expr.Range()))
		}
	}
	for _, a := range sortedAttrs(b.Body) {
		switch a.Name {
		case "params", "variadic_params":
		case "result":
			c.rewrite(a, a.Name, local)
		default:
			c.commentOut(a.SrcRange, "Attribute bake ignores", fmt.Sprintf("bake ignores %q in a function, so it is left out.", a.Name))
		}
	}
	c.ignoredBlocks(b.Body, "function")
}

// rewrite writes a as name = its expression with bare variable names as
// var.NAME.
func (c *conv) rewrite(a *hclsyntax.Attribute, name string, local map[string]bool) {
	c.replace(a.SrcRange, name+" = "+c.expr(a.Expr, local))
}

// expr is e's source with every bare variable name as var.NAME; names in
// local (matrix values, function parameters) stay as they are.
func (c *conv) expr(e hclsyntax.Expression, local map[string]bool) string {
	r := e.Range()
	var patches []edit
	for _, t := range hclsyntax.Variables(e) {
		root := t.RootName()
		switch {
		case local[root]:
		case c.names.vars[root]:
			p := t.SourceRange().Start.Byte
			patches = append(patches, edit{p, p, "var."})
		case root == "target":
			// bake's target.NAME.ATTR reads another target's attribute,
			// as bakeplan's does.
		case root == "BAKE_LOCAL_PLATFORM" && len(t) == 1:
			// bake's built-in: the platform of the machine running it.
			r := t.SourceRange()
			patches = append(patches, edit{r.Start.Byte, r.End.Byte, "local_platform()"})
		case root == "BAKE_CMD_CONTEXT" && len(t) == 1:
			// bake's built-in: the directory bake runs in (for a local
			// file, the spec's).
			r := t.SourceRange()
			patches = append(patches, edit{r.Start.Byte, r.End.Byte, `"."`})
		default:
			c.warn(t.SourceRange(), "Unknown name", fmt.Sprintf("%s is not a variable of the bake file, a matrix value or a function parameter; bake refuses it too.", root))
		}
	}
	_ = hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok {
			if to, renamed := functionNames[call.Name]; renamed {
				patches = append(patches, edit{call.NameRange.Start.Byte, call.NameRange.End.Byte, to})
			}
		}
		return nil
	})
	return string(splice(c.src.text, r.Start.Byte, r.End.Byte, patches))
}

// functionNames are bake's functions whose bakeplan names differ: bake's
// reverse reverses a string and reverselist a list, where bakeplan (as
// Terraform) has strrev and reverse.
var functionNames = map[string]string{"reverse": "strrev", "reverselist": "reverse"}
