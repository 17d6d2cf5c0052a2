package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestLockPinsFrontends: lock pins the image a custom "# syntax=" frontend
// names, and reads a Dockerfile written for a mirrored Dockerfile frontend
// for its base images, pinning both; plan then builds from the pins.
func TestLockPinsFrontends(t *testing.T) {
	env := testenv.Get(t)
	repo := fmt.Sprintf("%s/e2e-lockfe-%d", env.Registry, time.Now().UnixNano())
	dir := t.TempDir()
	// lock only resolves these, so any image will do.
	var helpers strings.Builder
	helpers.WriteString(testBlocks(env))
	for i, name := range []string{"frontends/custom", "docker/dockerfile", "base"} {
		writeFile(t, dir, fmt.Sprintf("helper%d/marker", i), name+"\n")
		fmt.Fprintf(&helpers, "target \"h%d\" {\n  context = \"helper%d\"\n  dockerfile_inline = \"FROM scratch\\nCOPY marker /marker\"\n  platforms = [\"linux/amd64\"]\n  tags = [\"%s/%s:1\"]\n  push = true\n}\n", i, i, repo, name)
	}
	if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", writeFile(t, dir, "helpers.hcl", helpers.String())); code != 0 {
		t.Fatalf("pushing the helper images: exit %d\n%s", code, errOut)
	}
	writeFile(t, dir, "app/custom.yaml", fmt.Sprintf("# syntax=%s/frontends/custom:1\nversion: v4\n", repo))
	writeFile(t, dir, "app/Dockerfile", fmt.Sprintf("# syntax=%[1]s/docker/dockerfile:1\nFROM %[1]s/base:1\nRUN true\n", repo))
	spec := writeFile(t, dir, "app/bakeplan.hcl", testBlocks(env)+`target "custom" {
  dockerfile = "custom.yaml"
  platforms  = ["linux/amd64"]
}
target "mirrored" {
  platforms = ["linux/amd64"]
}
`)
	if out, errOut, code := bakeplan(t, "lock", "-f", spec); code != 0 {
		t.Fatalf("lock: exit %d\n%s%s", code, out, errOut)
	}
	lock, err := os.ReadFile(filepath.Join(dir, "app", "bakeplan.lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"frontends/custom:1", "docker/dockerfile:1", "base:1"} {
		if !strings.Contains(string(lock), repo+"/"+ref) {
			t.Errorf("the lock file does not pin %s/%s:\n%s", repo, ref, lock)
		}
	}
	out, errOut, code := bakeplan(t, "plan", "-f", spec)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "Images: 3 locked, 0 unpinned.") || strings.Count(out, "(locked)") != 3 {
		t.Errorf("after lock, the plan does not build from the three pins:\n%s", out)
	}
}
