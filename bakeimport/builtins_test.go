package bakeimport

import (
	"context"
	"strings"
	"testing"
)

// TestBuiltinVariables: bake's BAKE_LOCAL_PLATFORM (the platform of the
// machine running it) and BAKE_CMD_CONTEXT (the directory it runs in) are
// carried over, not refused; a variable of the file with such a name
// stays a variable.
func TestBuiltinVariables(t *testing.T) {
	src := `target "a" {
  context = BAKE_CMD_CONTEXT
  args = { PLAT = BAKE_LOCAL_PLATFORM, DIR = "${BAKE_CMD_CONTEXT}/sub" }
}
`
	res, diags := Convert(context.Background(), []File{{Name: "docker-bake.hcl", Data: []byte(src)}}, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	spec := string(res.Specs[0])
	for _, want := range []string{`context = "."`, `PLAT = local_platform()`, `"${"."}/sub"`} {
		if !strings.Contains(spec, want) {
			t.Errorf("missing %q in:\n%s", want, spec)
		}
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
	own := "variable \"BAKE_LOCAL_PLATFORM\" {\n  default = \"x\"\n}\ntarget \"a\" {\n  args = { P = BAKE_LOCAL_PLATFORM }\n}\n"
	res, diags = Convert(context.Background(), []File{{Name: "docker-bake.hcl", Data: []byte(own)}}, nil)
	if diags.HasErrors() || !strings.Contains(string(res.Specs[0]), "var.BAKE_LOCAL_PLATFORM") {
		t.Errorf("a variable of the file named BAKE_LOCAL_PLATFORM: %v\n%s", diags, res.Specs[0])
	}
}
