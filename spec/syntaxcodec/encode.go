// Package syntaxcodec writes a parsed piece of native HCL syntax (an
// hclsyntax.Body) as bytes and reads it back, so that a spec file's pieces
// need not be parsed again while their text is unchanged.
//
// Positions are kept relative to the piece's start, which is given again
// when the piece is read: a piece that moved within its file (lines added
// above it) reads back at its new place. Only what HCL's parser builds from
// clean source is written; anything else (a syntax error's placeholder, a
// value a parser never makes) makes Encode refuse the piece, and it is
// simply parsed each time.
package syntaxcodec

import (
	"encoding/binary"
	"maps"
	"math/big"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Node tags. The numbers are part of the format; add, never renumber.
const (
	tagNil byte = iota
	tagLiteral
	tagScopeTraversal
	tagRelativeTraversal
	tagFunctionCall
	tagConditional
	tagIndex
	tagTuple
	tagObject
	tagObjectKey
	tagFor
	tagSplat
	tagAnonSymbol
	tagBinaryOp
	tagUnaryOp
	tagTemplate
	tagTemplateJoin
	tagTemplateWrap
	tagParentheses
)

// Value kinds of a literal or a traversal's index.
const (
	valString byte = iota
	valNumber
	valTrue
	valFalse
	valNull
)

// Traversal step kinds.
const (
	stepRoot byte = iota
	stepAttr
	stepIndex
)

// operations are HCL's operators, which expressions point to by identity.
var operations = []*hclsyntax.Operation{
	hclsyntax.OpLogicalOr, hclsyntax.OpLogicalAnd, hclsyntax.OpLogicalNot,
	hclsyntax.OpEqual, hclsyntax.OpNotEqual,
	hclsyntax.OpGreaterThan, hclsyntax.OpGreaterThanOrEqual,
	hclsyntax.OpLessThan, hclsyntax.OpLessThanOrEqual,
	hclsyntax.OpAdd, hclsyntax.OpSubtract, hclsyntax.OpMultiply,
	hclsyntax.OpDivide, hclsyntax.OpModulo, hclsyntax.OpNegate,
}

// Encode writes body, parsed from a piece starting at base in the file
// filename, and reports whether it could: false for anything HCL's parser
// does not build from clean source. Only a body parsed without any
// diagnostic may be given: not every syntax error leaves a trace in the
// tree ("a = 1 +" parses as "a = 1").
func Encode(body *hclsyntax.Body, filename string, base hcl.Pos) ([]byte, bool) {
	e := &encoder{filename: filename, base: base, ok: true}
	e.body(body)
	return e.b, e.ok
}

type encoder struct {
	b        []byte
	filename string
	base     hcl.Pos
	ok       bool
	depth    int // as the decoder counts it
	// anon numbers the anonymous symbols of splats: a splat's Item is the
	// very symbol its Each refers to, and must read back as one value.
	anon map[*hclsyntax.AnonSymbolExpr]int
}

func (e *encoder) fail() { e.ok = false }

func (e *encoder) uint(n int) {
	if n < 0 {
		e.fail()
		return
	}
	e.b = binary.AppendUvarint(e.b, uint64(n))
}

func (e *encoder) int(n int) { e.b = binary.AppendVarint(e.b, int64(n)) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) str(s string) {
	e.uint(len(s))
	e.b = append(e.b, s...)
}

// count writes a slice's length, or 0 for a nil slice: the parser makes
// both, and they must read back as they were.
func (e *encoder) count(n int, isNil bool) {
	if isNil {
		e.uint(0)
		return
	}
	e.uint(n + 1)
}

func (e *encoder) rng(r hcl.Range) {
	if r.Filename != e.filename {
		e.fail()
	}
	e.int(r.Start.Line - e.base.Line)
	e.int(r.Start.Column)
	e.int(r.Start.Byte - e.base.Byte)
	e.int(r.End.Line - r.Start.Line)
	e.int(r.End.Column)
	e.int(r.End.Byte - r.Start.Byte)
}

// enter and leave count nesting as the decoder does; past its limit the
// piece is refused.
func (e *encoder) enter() bool {
	e.depth++
	if e.depth > maxDepth {
		e.fail()
	}
	return e.ok
}

func (e *encoder) leave() { e.depth-- }

func (e *encoder) body(b *hclsyntax.Body) {
	if b == nil || !e.enter() {
		e.fail()
		return
	}
	defer e.leave()
	e.count(len(b.Attributes), b.Attributes == nil)
	// Sorted, so that equal bodies write equal bytes.
	for _, name := range slices.Sorted(maps.Keys(b.Attributes)) {
		a := b.Attributes[name]
		if a == nil || a.Name != name {
			e.fail()
			return
		}
		e.str(a.Name)
		e.expr(a.Expr)
		e.rng(a.SrcRange)
		e.rng(a.NameRange)
		e.rng(a.EqualsRange)
	}
	e.count(len(b.Blocks), b.Blocks == nil)
	for _, blk := range b.Blocks {
		e.block(blk)
	}
	e.rng(b.SrcRange)
	e.rng(b.EndRange)
}

func (e *encoder) block(b *hclsyntax.Block) {
	if b == nil {
		e.fail()
		return
	}
	e.str(b.Type)
	e.count(len(b.Labels), b.Labels == nil)
	for _, l := range b.Labels {
		e.str(l)
	}
	e.count(len(b.LabelRanges), b.LabelRanges == nil)
	for _, r := range b.LabelRanges {
		e.rng(r)
	}
	e.body(b.Body)
	e.rng(b.TypeRange)
	e.rng(b.OpenBraceRange)
	e.rng(b.CloseBraceRange)
}

func (e *encoder) exprs(xs []hclsyntax.Expression) {
	e.count(len(xs), xs == nil)
	for _, x := range xs {
		e.expr(x)
	}
}

// expr writes one expression: its tag, then its fields in declaration
// order, with the ranges last.
func (e *encoder) expr(x hclsyntax.Expression) {
	if !e.enter() {
		return
	}
	defer e.leave()
	switch x := x.(type) {
	case nil:
		e.b = append(e.b, tagNil)
	case *hclsyntax.LiteralValueExpr:
		e.b = append(e.b, tagLiteral)
		e.value(x.Val)
		e.rng(x.SrcRange)
	case *hclsyntax.ScopeTraversalExpr:
		e.b = append(e.b, tagScopeTraversal)
		e.traversal(x.Traversal)
		e.rng(x.SrcRange)
	case *hclsyntax.RelativeTraversalExpr:
		e.b = append(e.b, tagRelativeTraversal)
		e.expr(x.Source)
		e.traversal(x.Traversal)
		e.rng(x.SrcRange)
	case *hclsyntax.FunctionCallExpr:
		e.b = append(e.b, tagFunctionCall)
		e.str(x.Name)
		e.exprs(x.Args)
		e.bool(x.ExpandFinal)
		e.rng(x.NameRange)
		e.rng(x.OpenParenRange)
		e.rng(x.CloseParenRange)
	case *hclsyntax.ConditionalExpr:
		e.b = append(e.b, tagConditional)
		e.expr(x.Condition)
		e.expr(x.TrueResult)
		e.expr(x.FalseResult)
		e.rng(x.SrcRange)
	case *hclsyntax.IndexExpr:
		e.b = append(e.b, tagIndex)
		e.expr(x.Collection)
		e.expr(x.Key)
		e.rng(x.SrcRange)
		e.rng(x.OpenRange)
		e.rng(x.BracketRange)
	case *hclsyntax.TupleConsExpr:
		e.b = append(e.b, tagTuple)
		e.exprs(x.Exprs)
		e.rng(x.SrcRange)
		e.rng(x.OpenRange)
	case *hclsyntax.ObjectConsExpr:
		e.b = append(e.b, tagObject)
		e.count(len(x.Items), x.Items == nil)
		for _, it := range x.Items {
			e.expr(it.KeyExpr)
			e.expr(it.ValueExpr)
		}
		e.rng(x.SrcRange)
		e.rng(x.OpenRange)
	case *hclsyntax.ObjectConsKeyExpr:
		e.b = append(e.b, tagObjectKey)
		e.expr(x.Wrapped)
		e.bool(x.ForceNonLiteral)
	default:
		e.compound(x)
	}
}

// compound writes the expressions that bind names or point to shared
// values: for, splat, operators, templates.
func (e *encoder) compound(x hclsyntax.Expression) {
	switch x := x.(type) {
	case *hclsyntax.ForExpr:
		e.b = append(e.b, tagFor)
		e.str(x.KeyVar)
		e.str(x.ValVar)
		e.expr(x.CollExpr)
		e.expr(x.KeyExpr)
		e.expr(x.ValExpr)
		e.expr(x.CondExpr)
		e.bool(x.Group)
		e.rng(x.SrcRange)
		e.rng(x.OpenRange)
		e.rng(x.CloseRange)
	case *hclsyntax.SplatExpr:
		e.b = append(e.b, tagSplat)
		e.expr(x.Source)
		e.expr(x.Each)
		if x.Item == nil {
			e.fail()
			return
		}
		e.expr(x.Item)
		e.rng(x.SrcRange)
		e.rng(x.MarkerRange)
	case *hclsyntax.AnonSymbolExpr:
		e.b = append(e.b, tagAnonSymbol)
		if n, seen := e.anon[x]; seen {
			e.uint(n)
			return
		}
		if e.anon == nil {
			e.anon = map[*hclsyntax.AnonSymbolExpr]int{}
		}
		e.anon[x] = len(e.anon) + 1
		e.uint(0) // a new one; its range follows
		e.rng(x.SrcRange)
	case *hclsyntax.BinaryOpExpr:
		e.b = append(e.b, tagBinaryOp)
		e.expr(x.LHS)
		e.op(x.Op)
		e.expr(x.RHS)
		e.rng(x.SrcRange)
	case *hclsyntax.UnaryOpExpr:
		e.b = append(e.b, tagUnaryOp)
		e.op(x.Op)
		e.expr(x.Val)
		e.rng(x.SrcRange)
		e.rng(x.SymbolRange)
	case *hclsyntax.TemplateExpr:
		e.b = append(e.b, tagTemplate)
		e.exprs(x.Parts)
		e.rng(x.SrcRange)
	case *hclsyntax.TemplateJoinExpr:
		e.b = append(e.b, tagTemplateJoin)
		e.expr(x.Tuple)
	case *hclsyntax.TemplateWrapExpr:
		e.b = append(e.b, tagTemplateWrap)
		e.expr(x.Wrapped)
		e.rng(x.SrcRange)
	case *hclsyntax.ParenthesesExpr:
		e.b = append(e.b, tagParentheses)
		e.expr(x.Expression)
		e.rng(x.SrcRange)
	default:
		// A syntax error's placeholder, or a type this format predates.
		e.fail()
	}
}

func (e *encoder) op(op *hclsyntax.Operation) {
	i := slices.Index(operations, op)
	if i < 0 {
		e.fail()
		return
	}
	e.uint(i)
}

// value writes a literal as the parser makes them: a known string, number
// or bool, or an untyped null.
func (e *encoder) value(v cty.Value) {
	switch {
	case v.IsMarked() || !v.IsKnown():
		e.fail()
	case v.IsNull():
		if v.Type() != cty.DynamicPseudoType {
			e.fail()
			return
		}
		e.b = append(e.b, valNull)
	case v.Type() == cty.String:
		e.b = append(e.b, valString)
		e.str(v.AsString())
	case v.Type() == cty.Number:
		e.b = append(e.b, valNumber)
		e.number(v.AsBigFloat())
	case v.Type() == cty.Bool && v.True():
		e.b = append(e.b, valTrue)
	case v.Type() == cty.Bool:
		e.b = append(e.b, valFalse)
	default:
		e.fail()
	}
}

// number keeps a number exactly: its precision and rounding mode too, which
// arithmetic on it depends on.
func (e *encoder) number(f *big.Float) {
	g, err := f.GobEncode()
	if err != nil {
		e.fail()
		return
	}
	e.uint(len(g))
	e.b = append(e.b, g...)
}

func (e *encoder) traversal(t hcl.Traversal) {
	e.count(len(t), t == nil)
	for _, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			e.b = append(e.b, stepRoot)
			e.str(s.Name)
			e.rng(s.SrcRange)
		case hcl.TraverseAttr:
			e.b = append(e.b, stepAttr)
			e.str(s.Name)
			e.rng(s.SrcRange)
		case hcl.TraverseIndex:
			e.b = append(e.b, stepIndex)
			e.value(s.Key)
			e.rng(s.SrcRange)
		default:
			e.fail()
		}
	}
}
