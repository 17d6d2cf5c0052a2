package compiler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzCompile feeds arbitrary text through parse and compile. No input may
// panic; every problem must come back as a diagnostic. The seed corpus is the
// examples, so mutations start from real specs.
func FuzzCompile(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/bakeplan.hcl")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("target \"a\" {\n  matrix = { v = [1, 2] }\n  name = \"a-${v}\"\n}\n")
	f.Add("locals {\n  x = ((((((((1))))))))\n  y = [[[[{a = [local.x]}]]]]\n}\n")
	f.Add("locals {\n  a = 1\n  b = local.a + 1\n  c = local.b + local.a\n}\n")
	f.Add("variable \"X\" {\n  type = list(object({a=optional(string, \"d\")}))\n  default = [{}]\n}\n")
	f.Fuzz(func(t *testing.T, src string) {
		files := map[string]string{
			"Dockerfile":                  "FROM scratch\n",
			"docker/base/Dockerfile":      "FROM scratch\n",
			"app/Dockerfile":              "FROM base\n",
			"cmd/cli/Dockerfile":          "FROM scratch\n",
			"cmd/server/Dockerfile":       "FROM scratch\n",
			".dockerignore":               "*.log\n!keep.log\n",
			"docker/base/.dockerignore":   "[\n",
			"Dockerfile.dockerignore":     "**\n",
			"app/Dockerfile.dockerignore": "!**\n",
		}
		// Fuzzing for time as well as panics: the cost must stay about
		// linear in the input, and fuzz inputs are small. The bound is
		// generous enough for -race on a loaded machine; a quadratic path
		// or an unbounded function overshoots it by far. A hang never
		// returns, so the watchdog crashes the process, which makes the
		// fuzzer keep the input.
		limit := 10*time.Second + time.Duration(len(src))*time.Millisecond
		watchdog := time.AfterFunc(limit, func() {
			panic(fmt.Sprintf("compiling %d bytes took more than %v:\n%s", len(src), limit, src))
		})
		p, diags := project{src: src, files: files}.compile(t)
		watchdog.Stop()
		if diags.HasErrors() && p != nil {
			t.Fatalf("a plan came back with errors")
		}
		if p != nil {
			if err := p.Validate(); err != nil {
				t.Fatalf("compiled plan is invalid: %v", err)
			}
		}
	})
}
