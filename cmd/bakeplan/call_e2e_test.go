package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestCallSubrequests: a target's call runs the frontend's subrequest on a
// real BuildKit instead of the build. check prints the Dockerfile's lint
// findings at their lines and fails when it finds any, as
// docker buildx bake --call check does, passes on a clean file, and never
// pushes the tags the target has; outline and targets print the frontend's
// answer.
func TestCallSubrequests(t *testing.T) {
	env := testenv.Get(t)
	repo := fmt.Sprintf("%s/e2e-call-%d", env.Registry, time.Now().UnixNano())
	dir := t.TempDir()
	writeFile(t, dir, "dirty/Dockerfile", fmt.Sprintf("FROM %s AS base\nrun echo hi\nFROM base\n", env.Base))
	writeFile(t, dir, "clean/Dockerfile", fmt.Sprintf("FROM %s AS base\nARG GREETING\nRUN echo $GREETING\nFROM base AS final\n", env.Base))
	spec := writeFile(t, dir, "bakeplan.hcl", testBlocks(env)+fmt.Sprintf(`target "dirty" {
  context = "dirty"
  call    = "check"
  tags    = ["%[1]s/dirty:1"]
  push    = true
}
target "clean" {
  context = "clean"
  call    = "check"
}
target "outline" {
  context = "clean"
  call    = "outline"
}
target "stages" {
  context = "clean"
  call    = "targets"
}
`, repo))

	out, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec, "dirty")
	if code == 0 {
		t.Fatalf("a check with findings passed:\n%s%s", out, errOut)
	}
	for _, want := range []string{"ConsistentInstructionCasing", "Dockerfile:2", "run echo hi", "the frontend's check answered with status 1"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("the failed check does not say %q:\n%s%s", want, out, errOut)
		}
	}
	// Nothing was pushed: the check builds no image.
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/%s/dirty/manifests/1", env.Registry, strings.TrimPrefix(repo, env.Registry+"/")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the checked target's tag answers %s; a check pushes nothing", resp.Status)
	}

	out, errOut, code = bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec, "clean", "outline", "stages")
	if code != 0 {
		t.Fatalf("clean check, outline, targets: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Check complete, no warnings found.", "GREETING", "final"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("the answers do not say %q:\n%s%s", want, out, errOut)
		}
	}

	// The plan says what the step does; a dry run shows the subrequest.
	out, _, _ = bakeplan(t, "plan", "--offline", "-f", spec, "dirty")
	if !strings.Contains(out, "call check: the frontend's answer, no image built or exported") || strings.Contains(out, "publish.dirty") {
		t.Errorf("plan of a check:\n%s", out)
	}
	out, _, _ = bakeplan(t, "apply", "--dry-run", "-f", filepath.Join(dir, "bakeplan.hcl"), "dirty")
	if !strings.Contains(out, "requestid=frontend.lint") {
		t.Errorf("the dry run does not show the subrequest:\n%s", out)
	}
}
