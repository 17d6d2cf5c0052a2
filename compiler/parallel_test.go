package compiler_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestIndependentEvaluationMatchesSequential: targets that read no other
// target are evaluated on every core, then placed in the order of
// evaluating one by one. project.compile compiles every spec of these
// tests both ways and fails on any difference in the plan or in the
// diagnostics and their order; this test feeds it generated specs (fixed
// seed) in which many targets fail, read each other, inherit, expand a
// matrix or read their own attributes.
func TestIndependentEvaluationMatchesSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 7))
	files := map[string]string{
		"Dockerfile":      "FROM scratch\nCOPY . /\n",
		"a/Dockerfile":    "FROM alpine:3.20\nARG N\nRUN echo $N\n",
		"b/Dockerfile":    "FROM base\n",
		"b/.dockerignore": "*.log\n",
	}
	for i := range 300 {
		src := randomSpec(rng)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("the spec:\n%s", src)
				}
			})
			project{src: src, files: files}.compile(t)
		})
	}
}

// randomSpec writes a spec of a dozen targets or so, each with a few
// attributes drawn from valid and invalid forms.
func randomSpec(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString("variable \"V\" {\n  default = \"1\"\n}\nlocals {\n  p = [\"linux/amd64\", \"linux/arm64\"]\n}\n")
	n := 4 + rng.IntN(12)
	for i := range n {
		fmt.Fprintf(&b, "target \"t%d\" {\n", i)
		if rng.IntN(6) == 0 {
			fmt.Fprintf(&b, "  matrix = { m = [\"x\", \"y\"] }\n  name = \"t%d-${m}\"\n", i)
		}
		for range 1 + rng.IntN(4) {
			b.WriteString("  " + randomAttr(rng, i, n) + "\n")
		}
		b.WriteString("}\n")
	}
	fmt.Fprintf(&b, "group \"default\" {\n  targets = [")
	for i := range n {
		if rng.IntN(4) > 0 {
			fmt.Fprintf(&b, "\"t%d\", ", i)
		}
	}
	b.WriteString("]\n}\n")
	return b.String()
}

// randomAttr is one attribute of target i of n. References go to targets
// before it more often than after, so that some chains are long.
func randomAttr(rng *rand.Rand, i, n int) string {
	other := rng.IntN(n)
	forms := []string{
		`context = "a"`,
		`context = "b"`,
		`context = "missing"`,
		`dockerfile = "Dockerfile"`,
		`tags = ["r/x${var.V}:1"]`,
		fmt.Sprintf(`tags = ["r/t%d:${var.V}"]`, i),
		`tags = ["r/x:${var.NOPE}"]`,
		`tags = ["Bad Tag"]`,
		`platforms = local.p`,
		`platforms = ["linux/amd64", "plan9/sparc"]`,
		`args = { N = var.V }`,
		`args = { N = 1 + "x" }`,
		`push = "very"`,
		`labels = { a = "b" }`,
		fmt.Sprintf(`args = { N = target.t%d.args.N }`, other),
		fmt.Sprintf(`tags = target.t%d.tags`, other),
		fmt.Sprintf(`inherits = ["t%d"]`, other),
		fmt.Sprintf(`labels = { x = target.t%d.target }`, i),
		`target = "runtime"`,
		`no_cache = true`,
		`output = ["type=registry"]`,
		`cache_from = ["type=registry,ref=r/c"]`,
	}
	return forms[rng.IntN(len(forms))]
}
