package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestApplyCLI runs bakeplan apply on examples/hello against the real test
// environment, as a user would, and a failing spec that must exit 1.
func TestApplyCLI(t *testing.T) {
	e := testenv.Get(t)
	testenv.Emulates(t)
	bk, reg, base := e.Buildkit, e.Registry, e.Base
	meta := filepath.Join(t.TempDir(), "meta.json")
	env := []string{"BUILDKIT_HOST=" + bk, "BAKEPLAN_VAR_REGISTRY=" + reg, "BAKEPLAN_VAR_BASE=" + base}
	out, errOut, code := runWith(t, env, "apply", "-f", "../../examples/hello/bakeplan.hcl", "--progress", "quiet", "--metadata-file", meta)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "hello sha256:") {
		t.Errorf("quiet output %q, want the target and its digest", out)
	}
	var m struct {
		Published []struct{ Tag string }
	}
	b, err := os.ReadFile(meta)
	if err != nil || json.Unmarshal(b, &m) != nil || len(m.Published) != 1 || m.Published[0].Tag != reg+"/hello:latest" {
		t.Errorf("metadata file: %v %s", err, b)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bakeplan.hcl"), []byte(`target "broken" {
  dockerfile_inline = "FROM `+base+`\nRUN exit 7"
  tags = ["`+reg+`/broken:1"]
  push = true
}
`), 0o644)
	_, errOut, code = runWith(t, env, "apply", "-f", filepath.Join(dir, "bakeplan.hcl"), "--progress", "plain")
	if code != 1 || !strings.Contains(errOut, "no tag was written") {
		t.Errorf("a failing build: exit %d, stderr ends %q", code, tail(errOut))
	}
}

func tail(s string) string {
	if len(s) > 400 {
		return s[len(s)-400:]
	}
	return s
}
