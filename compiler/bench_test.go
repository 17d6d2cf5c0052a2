package compiler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/internal/benchspec"
	"github.com/bakeplan/bakeplan/internal/osfs"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// BenchmarkCompile1000x4 parses, compiles and checks a spec of 1,000 targets
// for 4 platforms, digesting every context and Dockerfile, as bakeplan plan
// does. scripts/bench-compile compares the whole command with buildx bake.
func BenchmarkCompile1000x4(b *testing.B) {
	dir := b.TempDir()
	if err := benchspec.Write(dir, 1000); err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "bakeplan.hcl"))
	if err != nil {
		b.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, diags := spec.Parse(hclparse.NewParser(), "bakeplan.hcl", src)
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		p, diags := compiler.Compile(context.Background(), s, compiler.Options{
			FS:             osfs.New("/"),
			SpecDir:        strings.TrimPrefix(filepath.ToSlash(abs), "/"),
			SpecFile:       "bakeplan.hcl",
			NativePlatform: platforms.MustParse("linux/amd64"),
		})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		if len(p.Steps) < 2000 {
			b.Fatalf("only %d steps", len(p.Steps))
		}
	}
}

// BenchmarkLocalsChain: a chain of locals, each reading the one before,
// must cost linear time (20,000 took 84 s when every local's eval context
// held all the others). Compare ns/op across the sizes.
func BenchmarkLocalsChain(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		var src strings.Builder
		src.WriteString("locals {\n  l0 = 1\n")
		for i := 1; i < n; i++ {
			fmt.Fprintf(&src, "  l%d = local.l%d + 1\n", i, i-1)
		}
		src.WriteString("}\n")
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, diags := (project{src: src.String()}).compile(b); diags.HasErrors() {
					b.Fatal(diags)
				}
			}
		})
	}
}
