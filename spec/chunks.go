package spec

import (
	"bytes"
	"context"
	"fmt"

	"github.com/bakeplan/bakeplan/internal/par"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// chunkSize is roughly how much source one piece of a large file holds: 1
// makes every top-level block a piece of its own. Small pieces keep the
// lexer's token slice small: HCL grows it by copying, and for a whole large
// file that copying costs more than the parsing (a token takes about 25
// times the bytes of its source). A piece per block also keeps pieces
// apart in the syntax cache: an edited block changes its own piece and no
// other.
const chunkSize = 1

// parseNative parses native syntax, splitting a large file into pieces at
// top-level block boundaries and parsing them concurrently. With a cache,
// a piece whose text was parsed before is read back instead.
//
// A boundary is a line holding only "}" followed by a line that starts with
// a letter. If such a line sits inside a heredoc, a comment, a string or
// brackets, the piece before it does not parse cleanly on its own (the
// construct is left open), so any piece with an error, or a top-level
// attribute defined in two pieces, sends the whole file through HCL's own
// parser instead. The result, diagnostics included, is then exactly what
// HCL gives for the whole file; FuzzChunkedParse checks that.
func parseNative(ctx context.Context, p *hclparse.Parser, src []byte, filename string, cache SyntaxCache) (*hcl.File, hcl.Diagnostics) {
	return parseChunks(ctx, p, src, filename, chunkSize, cache)
}

func parseChunks(ctx context.Context, p *hclparse.Parser, src []byte, filename string, size int, cache SyntaxCache) (*hcl.File, hcl.Diagnostics) {
	cuts := chunkBounds(src, size)
	if len(cuts) == 0 {
		return p.ParseHCL(src, filename)
	}
	bounds := append(append([]int{0}, cuts...), len(src))
	files := make([]*hcl.File, len(bounds)-1)
	diags := make([]hcl.Diagnostics, len(files))
	starts := make([]hcl.Pos, len(files))
	line := 1
	for i := range files {
		if i > 0 {
			line += bytes.Count(src[bounds[i-1]:bounds[i]], []byte("\n"))
		}
		starts[i] = hcl.Pos{Line: line, Column: 1, Byte: bounds[i]}
	}

	pieces := newPieces(cache, src, bounds)
	par.Do(len(files), func(i int) {
		if ctx.Err() == nil {
			files[i], diags[i] = pieces.parse(i, filename, starts[i])
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, interrupted(err)
	}
	pieces.keep()

	body := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	var all hcl.Diagnostics
	for i, f := range files {
		if diags[i].HasErrors() {
			return p.ParseHCL(src, filename)
		}
		all = append(all, diags[i]...)
		b := f.Body.(*hclsyntax.Body)
		for name, a := range b.Attributes {
			if _, dup := body.Attributes[name]; dup {
				return p.ParseHCL(src, filename)
			}
			body.Attributes[name] = a
		}
		body.Blocks = append(body.Blocks, b.Blocks...)
		body.EndRange = b.EndRange
		body.SrcRange = hcl.RangeBetween(files[0].Body.(*hclsyntax.Body).SrcRange, b.SrcRange)
	}
	file := &hcl.File{Body: body, Bytes: src, Nav: outlineOf(body)}
	p.AddFile(filename, file)
	return file, all
}

// chunkBounds returns the offsets at which src can be cut into pieces of
// about size bytes: the start of a line beginning with a letter, right after
// a line holding only "}" (optionally with a CR).
func chunkBounds(src []byte, size int) []int {
	var cuts []int
	for from := size; from < len(src); {
		i := bytes.Index(src[from:], []byte("\n}"))
		if i < 0 {
			break
		}
		q := from + i + 2 // just past the "}"
		if q < len(src) && src[q] == '\r' {
			q++
		}
		if q+1 < len(src) && src[q] == '\n' && isLetter(src[q+1]) {
			cuts = append(cuts, q+1)
			from = q + 1 + size
			continue
		}
		from = q
	}
	return cuts
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// outline names the top-level block around an offset, as HCL's own
// parser does, so that diagnostics read the same whichever way a file was
// parsed, and whether or not its syntax tree is still held (ReleaseSyntax).
type outline []outlined

// outlined is one top-level block: its range, its header's range, and its
// type and labels, which a diagnostic names it by (target "app"). The
// header is written only for a diagnostic: a large spec has thousands of
// blocks and usually none.
type outlined struct {
	rng, def hcl.Range
	typ      string
	labels   []string
}

func outlineOf(body *hclsyntax.Body) outline {
	o := make(outline, 0, len(body.Blocks))
	for _, b := range body.Blocks {
		o = append(o, outlined{rng: b.Range(), def: b.DefRange(), typ: b.Type, labels: b.Labels})
	}
	return o
}

func (o outline) block(offset int) *outlined {
	for i := range o {
		if o[i].rng.ContainsOffset(offset) {
			return &o[i]
		}
	}
	return nil
}

// ContextString implements the interface hcl's diagnostic writer looks for.
func (o outline) ContextString(offset int) string {
	b := o.block(offset)
	if b == nil {
		return ""
	}
	var buf bytes.Buffer
	buf.WriteString(b.typ)
	for _, l := range b.labels {
		fmt.Fprintf(&buf, " %q", l)
	}
	return buf.String()
}

// ContextDefRange returns the header range of the block around offset.
func (o outline) ContextDefRange(offset int) hcl.Range {
	if b := o.block(offset); b != nil {
		return b.def
	}
	return hcl.Range{}
}

// ReleaseSyntax lets a parsed native-syntax file's syntax tree go once its
// spec is decoded, keeping what diagnostics read of the file: its bytes and
// the outline of its blocks. The decoded spec still holds the expressions
// it needs; a JSON file is left as it is.
func ReleaseSyntax(f *hcl.File) {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return
	}
	if _, ok := f.Nav.(outline); !ok {
		f.Nav = outlineOf(body) // HCL's own parser's navigation holds the tree
	}
	f.Body = &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, SrcRange: body.SrcRange, EndRange: body.EndRange}
}
