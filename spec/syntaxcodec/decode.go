package syntaxcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// maxDepth bounds how deeply blocks and expressions nest, so that reading
// damaged bytes cannot exhaust the stack. Brackets in a spec are limited
// far below it, but a chain of operators is not ("1 + 1 + ..." nests as
// deep as it is long): Encode refuses a piece nested deeper, which is then
// parsed each time.
const maxDepth = 10000

var errCorrupt = errors.New("not a piece of syntax this program wrote")

// Decode reads a body written by Encode, placing it at base in the file
// filename. Bytes Encode did not write give an error, never a panic.
func Decode(data []byte, filename string, base hcl.Pos) (*hclsyntax.Body, error) {
	d := &decoder{data: data, filename: filename, base: base}
	b := d.body()
	if d.err == nil && d.at != len(d.data) {
		d.err = errCorrupt
	}
	if d.err != nil {
		return nil, fmt.Errorf("reading cached syntax: %w", d.err)
	}
	return b, nil
}

type decoder struct {
	data     []byte
	at       int
	filename string
	base     hcl.Pos
	err      error
	depth    int
	anon     []*hclsyntax.AnonSymbolExpr
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.at = len(d.data) // every later read fails fast
}

func (d *decoder) byte() byte {
	if d.at >= len(d.data) {
		d.fail()
		return 0
	}
	b := d.data[d.at]
	d.at++
	return b
}

func (d *decoder) uint() int {
	v, n := binary.Uvarint(d.data[d.at:])
	if n <= 0 || v > uint64(len(d.data)) {
		// No count or length in a piece exceeds its own size.
		d.fail()
		return 0
	}
	d.at += n
	return int(v)
}

func (d *decoder) int() int {
	v, n := binary.Varint(d.data[d.at:])
	if n <= 0 || v > 1<<40 || v < -(1<<40) {
		d.fail()
		return 0
	}
	d.at += n
	return int(v)
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

func (d *decoder) bytes() []byte {
	n := d.uint()
	if n > len(d.data)-d.at {
		d.fail()
		return nil
	}
	b := d.data[d.at : d.at+n]
	d.at += n
	return b
}

func (d *decoder) str() string { return string(d.bytes()) }

// count reads a length written by encoder.count: -1 for a nil slice.
func (d *decoder) count() int {
	n := d.uint() - 1
	if n > len(d.data)-d.at {
		d.fail()
		return -1
	}
	return n
}

func (d *decoder) rng() hcl.Range {
	var r hcl.Range
	r.Filename = d.filename
	r.Start.Line = d.int() + d.base.Line
	r.Start.Column = d.int()
	r.Start.Byte = d.int() + d.base.Byte
	r.End.Line = d.int() + r.Start.Line
	r.End.Column = d.int()
	r.End.Byte = d.int() + r.Start.Byte
	return r
}

// enter and leave bound the nesting of what is read.
func (d *decoder) enter() bool {
	d.depth++
	if d.depth > maxDepth {
		d.fail()
		return false
	}
	return true
}

func (d *decoder) leave() { d.depth-- }

func (d *decoder) body() *hclsyntax.Body {
	if !d.enter() {
		return nil
	}
	defer d.leave()
	b := &hclsyntax.Body{}
	if n := d.count(); n >= 0 {
		b.Attributes = make(hclsyntax.Attributes, n)
		for range n {
			a := &hclsyntax.Attribute{Name: d.str()}
			a.Expr = d.expr()
			a.SrcRange, a.NameRange, a.EqualsRange = d.rng(), d.rng(), d.rng()
			if d.err != nil {
				return nil
			}
			b.Attributes[a.Name] = a
		}
	}
	if n := d.count(); n >= 0 {
		b.Blocks = make(hclsyntax.Blocks, 0, n)
		for range n {
			blk := d.block()
			if d.err != nil {
				return nil
			}
			b.Blocks = append(b.Blocks, blk)
		}
	}
	b.SrcRange, b.EndRange = d.rng(), d.rng()
	return b
}

func (d *decoder) block() *hclsyntax.Block {
	b := &hclsyntax.Block{Type: d.str()}
	if n := d.count(); n >= 0 {
		b.Labels = make([]string, n)
		for i := range n {
			b.Labels[i] = d.str()
		}
	}
	if n := d.count(); n >= 0 {
		b.LabelRanges = make([]hcl.Range, n)
		for i := range n {
			b.LabelRanges[i] = d.rng()
		}
	}
	b.Body = d.body()
	b.TypeRange, b.OpenBraceRange, b.CloseBraceRange = d.rng(), d.rng(), d.rng()
	return b
}

func (d *decoder) exprs() []hclsyntax.Expression {
	n := d.count()
	if n < 0 {
		return nil
	}
	xs := make([]hclsyntax.Expression, n)
	for i := range xs {
		xs[i] = d.expr()
	}
	return xs
}

// expr reads one expression. A nil one (tagNil) is a nil interface, as the
// parser leaves an absent part.
func (d *decoder) expr() hclsyntax.Expression {
	if !d.enter() {
		return nil
	}
	defer d.leave()
	switch tag := d.byte(); tag {
	case tagNil:
		return nil
	case tagLiteral:
		x := &hclsyntax.LiteralValueExpr{Val: d.value()}
		x.SrcRange = d.rng()
		return x
	case tagScopeTraversal:
		x := &hclsyntax.ScopeTraversalExpr{Traversal: d.traversal()}
		x.SrcRange = d.rng()
		return x
	case tagRelativeTraversal:
		x := &hclsyntax.RelativeTraversalExpr{Source: d.expr()}
		x.Traversal = d.traversal()
		x.SrcRange = d.rng()
		return x
	case tagFunctionCall:
		x := &hclsyntax.FunctionCallExpr{Name: d.str()}
		x.Args = d.exprs()
		x.ExpandFinal = d.bool()
		x.NameRange, x.OpenParenRange, x.CloseParenRange = d.rng(), d.rng(), d.rng()
		return x
	case tagConditional:
		x := &hclsyntax.ConditionalExpr{Condition: d.expr()}
		x.TrueResult = d.expr()
		x.FalseResult = d.expr()
		x.SrcRange = d.rng()
		return x
	case tagIndex:
		x := &hclsyntax.IndexExpr{Collection: d.expr()}
		x.Key = d.expr()
		x.SrcRange, x.OpenRange, x.BracketRange = d.rng(), d.rng(), d.rng()
		return x
	case tagTuple:
		x := &hclsyntax.TupleConsExpr{Exprs: d.exprs()}
		x.SrcRange, x.OpenRange = d.rng(), d.rng()
		return x
	case tagObject:
		return d.object()
	case tagObjectKey:
		x := &hclsyntax.ObjectConsKeyExpr{Wrapped: d.expr()}
		x.ForceNonLiteral = d.bool()
		return x
	default:
		return d.compound(tag)
	}
}

func (d *decoder) object() hclsyntax.Expression {
	x := &hclsyntax.ObjectConsExpr{}
	if n := d.count(); n >= 0 {
		x.Items = make([]hclsyntax.ObjectConsItem, n)
		for i := range x.Items {
			x.Items[i].KeyExpr = d.expr()
			x.Items[i].ValueExpr = d.expr()
		}
	}
	x.SrcRange, x.OpenRange = d.rng(), d.rng()
	return x
}

func (d *decoder) compound(tag byte) hclsyntax.Expression {
	switch tag {
	case tagFor:
		x := &hclsyntax.ForExpr{KeyVar: d.str(), ValVar: d.str()}
		x.CollExpr = d.expr()
		x.KeyExpr = d.expr()
		x.ValExpr = d.expr()
		x.CondExpr = d.expr()
		x.Group = d.bool()
		x.SrcRange, x.OpenRange, x.CloseRange = d.rng(), d.rng(), d.rng()
		return x
	case tagSplat:
		x := &hclsyntax.SplatExpr{Source: d.expr()}
		x.Each = d.expr()
		item, ok := d.expr().(*hclsyntax.AnonSymbolExpr)
		if !ok {
			d.fail()
			return nil
		}
		x.Item = item
		x.SrcRange, x.MarkerRange = d.rng(), d.rng()
		return x
	case tagAnonSymbol:
		return d.anonSymbol()
	case tagBinaryOp:
		x := &hclsyntax.BinaryOpExpr{LHS: d.expr()}
		x.Op = d.op()
		x.RHS = d.expr()
		x.SrcRange = d.rng()
		return x
	case tagUnaryOp:
		x := &hclsyntax.UnaryOpExpr{Op: d.op()}
		x.Val = d.expr()
		x.SrcRange, x.SymbolRange = d.rng(), d.rng()
		return x
	case tagTemplate:
		x := &hclsyntax.TemplateExpr{Parts: d.exprs()}
		x.SrcRange = d.rng()
		return x
	case tagTemplateJoin:
		return &hclsyntax.TemplateJoinExpr{Tuple: d.expr()}
	case tagTemplateWrap:
		x := &hclsyntax.TemplateWrapExpr{Wrapped: d.expr()}
		x.SrcRange = d.rng()
		return x
	case tagParentheses:
		x := &hclsyntax.ParenthesesExpr{Expression: d.expr()}
		x.SrcRange = d.rng()
		return x
	}
	d.fail()
	return nil
}

// anonSymbol reads a splat's symbol: a new one with its range, or one read
// before, by number, as the same value.
func (d *decoder) anonSymbol() hclsyntax.Expression {
	n := d.uint()
	if n == 0 {
		x := &hclsyntax.AnonSymbolExpr{SrcRange: d.rng()}
		d.anon = append(d.anon, x)
		return x
	}
	if n > len(d.anon) {
		d.fail()
		return nil
	}
	return d.anon[n-1]
}

func (d *decoder) op() *hclsyntax.Operation {
	i := d.uint()
	if i >= len(operations) {
		d.fail()
		return nil
	}
	return operations[i]
}

func (d *decoder) value() cty.Value {
	switch d.byte() {
	case valString:
		return cty.StringVal(d.str())
	case valNumber:
		f := new(big.Float)
		if err := f.GobDecode(d.bytes()); err != nil || d.err != nil {
			d.fail()
			return cty.NilVal
		}
		return cty.NumberVal(f)
	case valTrue:
		return cty.True
	case valFalse:
		return cty.False
	case valNull:
		return cty.NullVal(cty.DynamicPseudoType)
	}
	d.fail()
	return cty.NilVal
}

func (d *decoder) traversal() hcl.Traversal {
	n := d.count()
	if n < 0 {
		return nil
	}
	t := make(hcl.Traversal, n)
	for i := range t {
		switch d.byte() {
		case stepRoot:
			t[i] = hcl.TraverseRoot{Name: d.str(), SrcRange: d.rng()}
		case stepAttr:
			t[i] = hcl.TraverseAttr{Name: d.str(), SrcRange: d.rng()}
		case stepIndex:
			t[i] = hcl.TraverseIndex{Key: d.value(), SrcRange: d.rng()}
		default:
			d.fail()
			return nil
		}
	}
	return t
}
