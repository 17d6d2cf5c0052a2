package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// sameAsHCL parses src whole with HCL and in pieces of size bytes, and fails
// unless both give the same syntax tree and diagnostics. The pieces are
// parsed without a cache, then with an empty one, then with the one that
// run filled, whose pieces are read back rather than parsed, and then with
// that cache after the text moved down a line.
func sameAsHCL(t testing.TB, src []byte, size int) {
	t.Helper()
	sameAsHCLWith(t, src, size, nil)
	cache := &memoryCache{kept: map[[sha256.Size]byte][]byte{}}
	sameAsHCLWith(t, src, size, cache)
	// Read back, not parsed again: nothing new to store.
	cache.stores = 0
	sameAsHCLWith(t, src, size, cache)
	if cache.stores > 0 {
		t.Fatalf("%d pieces kept in the cache were parsed again", cache.stores)
	}
	moved := append([]byte("# a line above\n"), src...)
	sameAsHCLWith(t, moved, size, cache)
}

// memoryCache is a SyntaxCache in a map.
type memoryCache struct {
	kept   map[[sha256.Size]byte][]byte
	stores int
}

func (m *memoryCache) Load(sum [sha256.Size]byte) []byte { return m.kept[sum] }

func (m *memoryCache) Store(sum [sha256.Size]byte, b []byte) {
	m.kept[sum] = b
	m.stores++
}

func sameAsHCLWith(t testing.TB, src []byte, size int, cache SyntaxCache) {
	t.Helper()
	want, wantDiags := hclsyntax.ParseConfig(src, "f.hcl", hcl.InitialPos)
	p := hclparse.NewParser()
	got, gotDiags := parseChunks(context.Background(), p, src, "f.hcl", size, cache)
	if p.Files()["f.hcl"] != got {
		t.Fatal("the parser does not hold the parsed file")
	}
	if !reflect.DeepEqual(got.Body, want.Body) {
		t.Fatalf("syntax trees differ for\n%s", src)
	}
	if !reflect.DeepEqual(gotDiags, wantDiags) {
		t.Fatalf("diagnostics differ:\n got %v\nwant %v", gotDiags, wantDiags)
	}
	for off := 0; off < len(src); off += 7 {
		wn, gn := want.Nav.(navigation0), got.Nav.(navigation0)
		if w, g := wn.ContextString(off), gn.ContextString(off); w != g {
			t.Fatalf("context at %d: got %q, want %q", off, g, w)
		}
		if w, g := wn.ContextDefRange(off), gn.ContextDefRange(off); w != g {
			t.Fatalf("context range at %d: got %v, want %v", off, g, w)
		}
	}
}

// navigation0 is what HCL's own navigation offers.
type navigation0 interface {
	ContextString(offset int) string
	ContextDefRange(offset int) hcl.Range
}

func TestChunkedParseMatchesHCL(t *testing.T) {
	tests := []struct {
		name, src string
	}{
		{"blocks", "a = 1\ntarget \"x\" {\n  b = 2\n}\ntarget \"y\" {\n}\ngroup \"g\" {\n  targets = []\n}\n"},
		{"crlf", "target \"x\" {\r\n  b = 2\r\n}\r\ntarget \"y\" {\r\n}\r\n"},
		{"heredoc", "x = <<EOT\n}\ntarget \"a\" {\n}\nEOT\ntarget \"b\" {\n}\n"},
		{"comment", "/*\n}\ntarget \"a\" {\n}\n*/\ntarget \"b\" {\n}\n"},
		{"brackets", "x = [\n{\n}\n]\ntarget \"b\" {\n}\nlocals {\n}\n"},
		{"template", "x = \"${\n{\n}\ny}\"\ntarget \"b\" {\n}\n"},
		{"duplicate attribute", "a = 1\ntarget \"x\" {\n}\na = 2\ntarget \"y\" {\n}\n"},
		{"error late", "target \"x\" {\n}\ntarget \"y\" {\n  = 1\n}\ntarget \"z\" {\n}\n"},
		{"no final newline", "target \"x\" {\n}\ntarget \"y\" {\n}"},
		{"trailing comment", "target \"x\" {\n}\n# end\n"},
		{"unicode", "target \"é\" {\n  x = \"ü→\"\n}\ntarget \"y\" {\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for size := 1; size < len(tt.src); size++ {
				sameAsHCL(t, []byte(tt.src), size)
			}
		})
	}
}

func TestChunkedParseExamples(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/bakeplan.hcl")
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 64, 512} {
			sameAsHCL(t, src, size)
		}
	}
	var big strings.Builder
	for i := range 300 {
		big.WriteString("target \"t")
		big.WriteString(strings.Repeat("x", i%7))
		big.WriteString(string(rune('a' + i%26)))
		big.WriteString("\" {\n  context = \"svc\"\n  tags = [\"r/x:${var.V}\"]\n}\n")
	}
	sameAsHCL(t, []byte(big.String()), chunkSize)
}

// FuzzChunkedParse checks that splitting never changes what a file means.
func FuzzChunkedParse(f *testing.F) {
	files, _ := filepath.Glob("../examples/*/bakeplan.hcl")
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src, 16)
	}
	f.Add([]byte("x = <<EOT\n}\nt {\n}\nEOT\nb {\n}\n"), 1)
	f.Fuzz(func(t *testing.T, src []byte, size int) {
		// HCL's own column counting can take quadratic time on long runs
		// of some Unicode sequences; small inputs keep the fuzzer moving.
		if size < 1 || size > 1<<16 || len(src) > 4<<10 {
			return
		}
		sameAsHCL(t, src, size)
	})
}

// TestSyntaxCacheKeepsEveryPiece: a run keeps every clean piece; the next
// reads them all back; a damaged entry is parsed again, and the result
// is HCL's either way; an edited block is its only piece parsed again.
func TestSyntaxCacheKeepsEveryPiece(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "target \"t%d\" {\n  tags = [\"r/t%d:${var.V}\"]\n}\n", i, i)
	}
	src := []byte(b.String())
	cache := &memoryCache{kept: map[[sha256.Size]byte][]byte{}}
	sameAsHCLWith(t, src, chunkSize, cache)
	if cache.stores != 200 {
		t.Fatalf("kept %d pieces of 200", cache.stores)
	}
	for sum := range cache.kept {
		cache.kept[sum] = cache.kept[sum][:len(cache.kept[sum])-1]
		break
	}
	cache.stores = 0
	sameAsHCLWith(t, src, chunkSize, cache)
	if cache.stores != 1 {
		t.Fatalf("after damaging one entry, %d pieces were parsed again", cache.stores)
	}
	edited := bytes.Replace(src, []byte(`"r/t7:`), []byte(`"r/t7/edited:`), 1)
	cache.stores = 0
	sameAsHCLWith(t, edited, chunkSize, cache)
	if cache.stores != 1 {
		t.Fatalf("after editing one block, %d pieces were parsed again", cache.stores)
	}
}

// TestSyntaxCacheUntouchedWhenInterrupted: a parse through a cache that
// Ctrl-C stops reports it and keeps nothing. (Stopped before any piece is
// parsed: when a piece finishes is not something a test can time.)
func TestSyntaxCacheUntouchedWhenInterrupted(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, "target \"t%d\" {\n  tags = [\"r/t%d\"]\n}\n", i, i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cache := &memoryCache{kept: map[[sha256.Size]byte][]byte{}}
	f, diags := parseChunks(ctx, hclparse.NewParser(), []byte(b.String()), "f.hcl", chunkSize, cache)
	if f != nil || !diags.HasErrors() || diags[0].Summary != "Interrupted" {
		t.Fatalf("an interrupted parse gave %v, %v", f, diags)
	}
	if cache.stores != 0 {
		t.Errorf("an interrupted parse kept %d pieces", cache.stores)
	}
}
