package syntaxcodec

import (
	"fmt"

	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/hclgen"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// roundTrip proves the codec on src by difference with HCL's parser: a
// clean parse must encode, and read back at the same place it must equal
// the parse field for field; read back at another place it must equal
// HCL's parse of the same text there. It returns false when src does not
// parse cleanly (nothing to compare).
func roundTrip(t *testing.T, src []byte, at, moved hcl.Pos) bool {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, "a.hcl", at)
	if len(diags) > 0 {
		return false
	}
	body := f.Body.(*hclsyntax.Body)
	enc, ok := Encode(body, "a.hcl", at)
	if !ok {
		t.Fatalf("Encode refused a clean parse of:\n%s", src)
	}
	got, err := Decode(enc, "a.hcl", at)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, src)
	}
	if !reflect.DeepEqual(got, body) {
		t.Fatalf("read back differs from the parse of:\n%s\n%s", src, firstDifference(got, body))
	}
	checkSplatsShareTheirSymbol(t, got)

	elsewhere, _ := hclsyntax.ParseConfig(src, "a.hcl", moved)
	got, err = Decode(enc, "a.hcl", moved)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, elsewhere.Body) {
		t.Fatalf("read back at %v differs from the parse there of:\n%s\n%s", moved, src, firstDifference(got, elsewhere.Body.(*hclsyntax.Body)))
	}
	return true
}

// checkSplatsShareTheirSymbol: a splat's Each refers to its Item by
// identity (HCL binds the element to that pointer while it evaluates), so
// equal-looking copies would not do.
func checkSplatsShareTheirSymbol(t *testing.T, body *hclsyntax.Body) {
	t.Helper()
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		s, ok := n.(*hclsyntax.SplatExpr)
		if !ok {
			return nil
		}
		found := false
		_ = hclsyntax.VisitAll(s.Each, func(m hclsyntax.Node) hcl.Diagnostics {
			found = found || m == hclsyntax.Node(s.Item)
			return nil
		})
		if !found {
			t.Errorf("a splat at %s lost its symbol", s.SrcRange)
		}
		return nil
	})
}

// firstDifference names where two bodies differ, for the failure message.
func firstDifference(got, want *hclsyntax.Body) string {
	var g, w []string
	collect := func(out *[]string) func(hclsyntax.Node) hcl.Diagnostics {
		return func(n hclsyntax.Node) hcl.Diagnostics {
			*out = append(*out, fmt.Sprintf("%T %#v", n, n.Range()))
			return nil
		}
	}
	_ = hclsyntax.VisitAll(got, collect(&g))
	_ = hclsyntax.VisitAll(want, collect(&w))
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("node %d:\n got  %s\n want %s", i, g[i], w[i])
		}
	}
	if len(g) != len(w) {
		return fmt.Sprintf("%d nodes against %d", len(g), len(w))
	}
	return "the nodes and ranges agree; a field or value differs"
}

// TestRoundTripGenerated proves the codec on generated pieces (fixed
// seed) that use every kind of node, value and traversal HCL's parser
// makes, at a piece's start and moved within its file.
func TestRoundTripGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 12))
	kinds := map[string]int{}
	for i := range 3000 {
		src := hclgen.Piece(rng)
		at := hcl.Pos{Line: 1 + rng.IntN(500), Column: 1, Byte: rng.IntN(20000)}
		moved := hcl.Pos{Line: 1 + rng.IntN(500), Column: 1, Byte: rng.IntN(20000)}
		if !roundTrip(t, []byte(src), at, moved) {
			t.Fatalf("case %d: the generator wrote a piece that does not parse:\n%s", i, src)
		}
		f, _ := hclsyntax.ParseConfig([]byte(src), "a.hcl", at)
		_ = hclsyntax.VisitAll(f.Body.(*hclsyntax.Body), func(n hclsyntax.Node) hcl.Diagnostics {
			kinds[fmt.Sprintf("%T", n)]++
			return nil
		})
	}
	// Every node type the codec writes, so that the generator cannot
	// quietly stop covering one.
	for _, want := range []string{
		"LiteralValueExpr", "ScopeTraversalExpr", "RelativeTraversalExpr", "FunctionCallExpr",
		"ConditionalExpr", "IndexExpr", "TupleConsExpr", "ObjectConsExpr", "ObjectConsKeyExpr",
		"ForExpr", "SplatExpr", "AnonSymbolExpr", "BinaryOpExpr", "UnaryOpExpr", "TemplateExpr",
		"TemplateJoinExpr", "TemplateWrapExpr", "ParenthesesExpr", "Block", "Attribute",
	} {
		if kinds["*hclsyntax."+want] == 0 {
			t.Errorf("the generator made no %s: %v", want, kinds)
		}
	}
}

// TestRoundTripRepositorySpecs proves the codec on every spec file in the
// repository that parses, whole, with CRLF line ends too.
func TestRoundTripRepositorySpecs(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../../examples/*/*.hcl", "../../cmd/bakeplan/testdata/*/*.hcl", "../../cmd/bakeplan/testdata/*/*/*.hcl", "../../testdata/*/*.hcl"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d spec files found", len(files))
	}
	n := 0
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		at, moved := hcl.InitialPos, hcl.Pos{Line: 40, Column: 1, Byte: 900}
		if roundTrip(t, src, at, moved) {
			n++
		}
		roundTrip(t, []byte(strings.ReplaceAll(string(src), "\n", "\r\n")), at, moved)
	}
	if n < 10 {
		t.Errorf("only %d of %d spec files parsed", n, len(files))
	}
}

// TestEncodeRefusesWhatAParserDoesNotMake: where a syntax error left a
// placeholder (an unknown value, a range with no file), Encode refuses.
// Not every error leaves one ("1 +" parses as "1"), which is why the
// caller encodes only pieces parsed without diagnostics.
func TestEncodeRefusesWhatAParserDoesNotMake(t *testing.T) {
	for _, src := range []string{"a = \n", "a = foo(\n"} {
		f, diags := hclsyntax.ParseConfig([]byte(src), "a.hcl", hcl.InitialPos)
		if !diags.HasErrors() {
			t.Fatalf("%q was meant not to parse", src)
		}
		if _, ok := Encode(f.Body.(*hclsyntax.Body), "a.hcl", hcl.InitialPos); ok {
			t.Errorf("Encode wrote %q, which holds a syntax error's placeholder", src)
		}
	}
	clean, _ := hclsyntax.ParseConfig([]byte("a = 1\n"), "a.hcl", hcl.InitialPos)
	if _, ok := Encode(clean.Body.(*hclsyntax.Body), "b.hcl", hcl.InitialPos); ok {
		t.Error("Encode wrote ranges naming another file than the one given")
	}
}

// TestDecodeRefusesDamagedBytes: every truncation of a real encoding, and
// every single-byte change, is an error or a body, never a panic; a
// truncation is always an error.
func TestDecodeRefusesDamagedBytes(t *testing.T) {
	src := []byte(`target "a" {
  tags = [for t in var.tags : "${t}-${upper(x)}" if t != ""]
  args = { A = a[*].b, B = -1.5e3 }
}
`)
	f, _ := hclsyntax.ParseConfig(src, "a.hcl", hcl.InitialPos)
	enc, ok := Encode(f.Body.(*hclsyntax.Body), "a.hcl", hcl.InitialPos)
	if !ok {
		t.Fatal("Encode refused a clean parse")
	}
	for n := range len(enc) {
		if _, err := Decode(enc[:n], "a.hcl", hcl.InitialPos); err == nil {
			t.Fatalf("a truncation to %d of %d bytes read back", n, len(enc))
		}
	}
	for i := range enc {
		for _, b := range []byte{0, 1, 0x7f, 0x80, 0xff, enc[i] + 1} {
			damaged := append([]byte(nil), enc...)
			damaged[i] = b
			_, _ = Decode(damaged, "a.hcl", hcl.InitialPos)
		}
	}
}

// TestDeepNesting: a chain of operators nests as deep as it is long;
// past the decoder's limit Encode refuses it, below it both agree.
func TestDeepNesting(t *testing.T) {
	for _, n := range []int{10, maxDepth - 10, maxDepth + 10} {
		src := []byte("a = 1" + strings.Repeat(" + 1", n) + "\n")
		f, diags := hclsyntax.ParseConfig(src, "a.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		enc, ok := Encode(f.Body.(*hclsyntax.Body), "a.hcl", hcl.InitialPos)
		if n > maxDepth {
			if ok {
				t.Errorf("%d operators: encoded past the limit", n)
			}
			continue
		}
		if !ok {
			t.Fatalf("%d operators: refused", n)
		}
		got, err := Decode(enc, "a.hcl", hcl.InitialPos)
		if err != nil || !reflect.DeepEqual(got, f.Body) {
			t.Errorf("%d operators: read back %v", n, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	src := []byte("a = [1, \"x${y}\", z[*].w, {k = v}]\nb \"c\" { d = e ? f : g }\n")
	p, _ := hclsyntax.ParseConfig(src, "a.hcl", hcl.InitialPos)
	enc, _ := Encode(p.Body.(*hclsyntax.Body), "a.hcl", hcl.InitialPos)
	f.Add(enc)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Decode(data, "a.hcl", hcl.InitialPos)
	})
}

// FuzzRoundTrip: whatever text parses cleanly reads back as parsed.
func FuzzRoundTrip(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		f.Add(hclgen.Piece(rng))
	}
	f.Fuzz(func(t *testing.T, src string) {
		// HCL's own column counting can take quadratic time on long runs
		// of some Unicode sequences; small inputs keep the fuzzer moving.
		if len(src) > 4<<10 {
			return
		}
		roundTrip(t, []byte(src), hcl.Pos{Line: 3, Column: 1, Byte: 17}, hcl.Pos{Line: 9, Column: 1, Byte: 400})
	})
}
