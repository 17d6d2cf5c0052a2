package spec

import (
	"crypto/sha256"

	"github.com/bakeplan/bakeplan/spec/syntaxcodec"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A SyntaxCache keeps the parsed syntax of spec files' pieces between
// runs, by the sha256 of each piece's text. Parsing is most of planning a
// large spec, and between two runs most pieces are unchanged.
//
// Load returns what Store kept for a piece, or nil; Store keeps a piece's
// syntax. parseChunks calls them from one goroutine, Load for every piece
// of the file before Store: a cache that keeps only what a run loaded or
// stored keeps exactly the spec's current pieces.
type SyntaxCache interface {
	Load(sum [sha256.Size]byte) []byte
	Store(sum [sha256.Size]byte, syntax []byte)
}

// pieces parses a file's pieces through a cache, if there is one.
type pieces struct {
	cache  SyntaxCache
	src    []byte
	bounds []int
	sums   [][sha256.Size]byte
	cached [][]byte
	fresh  [][]byte // the syntax of pieces parsed this run, to store
}

func newPieces(cache SyntaxCache, src []byte, bounds []int) *pieces {
	p := &pieces{cache: cache, src: src, bounds: bounds}
	if cache == nil {
		return p
	}
	n := len(bounds) - 1
	p.sums = make([][sha256.Size]byte, n)
	p.cached = make([][]byte, n)
	p.fresh = make([][]byte, n)
	for i := range n {
		p.sums[i] = sha256.Sum256(src[bounds[i]:bounds[i+1]])
		p.cached[i] = cache.Load(p.sums[i])
	}
	return p
}

// parse returns piece i, starting at start: read back from the cache, or
// parsed. It may run for several pieces at once.
func (p *pieces) parse(i int, filename string, start hcl.Pos) (*hcl.File, hcl.Diagnostics) {
	if p.cache != nil && p.cached[i] != nil {
		// Bytes that do not read back (damaged, or another format) are
		// as good as none: the piece is parsed.
		if body, err := syntaxcodec.Decode(p.cached[i], filename, start); err == nil {
			return &hcl.File{Body: body}, nil
		}
	}
	f, diags := hclsyntax.ParseConfig(p.src[p.bounds[i]:p.bounds[i+1]], filename, start)
	if p.cache != nil && len(diags) == 0 {
		if syntax, ok := syntaxcodec.Encode(f.Body.(*hclsyntax.Body), filename, start); ok {
			p.fresh[i] = syntax
		}
	}
	return f, diags
}

// keep stores the pieces parsed this run.
func (p *pieces) keep() {
	if p.cache == nil {
		return
	}
	for i, syntax := range p.fresh {
		if syntax != nil {
			p.cache.Store(p.sums[i], syntax)
		}
	}
}
