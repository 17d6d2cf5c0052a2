package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v %s", args, err, out)
	}
	return string(out)
}

// TestDiffAgainstRevision diffs the working tree against a git revision in a
// temporary repository: the revision is read from git objects, and the
// working tree is left exactly as it was.
func TestDiffAgainstRevision(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	os.MkdirAll(filepath.Join(dir, "svc/app"), 0o755)
	spec := filepath.Join(dir, "svc/bakeplan.hcl")
	os.WriteFile(spec, []byte("target \"app\" {\n  context = \"app\"\n  tags = [\"r.example.com/app:1\"]\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "svc/app/Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "svc/app/main.go"), []byte("package main\n"), 0o644)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "one")
	git(t, dir, "checkout", "-q", "-b", "feature")

	os.WriteFile(spec, []byte("target \"app\" {\n  context = \"app\"\n  tags = [\"r.example.com/app:2\"]\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "svc/app/main.go"), []byte("package main // edited\n"), 0o644)
	statusBefore := git(t, dir, "status", "--porcelain")

	out, errOut, code := bakeplan(t, "diff", "-f", spec, "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"bakeplan diff: ", "-> working tree", "~ build.app", "tags: +r.example.com/app:2, -r.example.com/app:1", "# rebuild: context app changed: ~main.go", "Diff: 0 to add, 1 to change, 0 to remove."} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if after := git(t, dir, "status", "--porcelain"); after != statusBefore {
		t.Errorf("diff changed the working tree: %q -> %q", statusBefore, after)
	}

	// Two revisions, and nothing changed between a revision and itself.
	git(t, dir, "commit", "-q", "-am", "two")
	out, _, code = bakeplan(t, "diff", "main", "feature", "-f", spec, "--format", "json")
	if code != 0 || !strings.Contains(out, `"format_version": "1.0"`) || !strings.Contains(out, `"action": "change"`) {
		t.Errorf("revision diff as JSON: exit %d\n%s", code, out)
	}
	out, _, code = bakeplan(t, "diff", "HEAD", "HEAD", "-f", spec, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("a revision against itself: exit %d\n%s", code, out)
	}
}

// TestSavedPlans: a plan file diffs against the working tree, a stale one is
// refused naming what changed, and one edited by hand is refused.
func TestSavedPlans(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "bakeplan.hcl")
	os.WriteFile(spec, []byte("variable \"V\" {\n  default = \"1\"\n}\ntarget \"app\" {\n  args = { V = var.V }\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	// Inside the build context the plan file would change the context.
	if _, errOut, code := bakeplan(t, "plan", "--offline", "-f", spec, "-out", filepath.Join(dir, "app.plan.json")); code != 1 ||
		!strings.Contains(errOut, "lies inside the build context of build.app") {
		t.Errorf("a plan file inside the context: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "app.plan.json")); err == nil {
		t.Errorf("the refused plan file was left behind")
	}
	planFile := filepath.Join(t.TempDir(), "app.plan.json")
	if _, errOut, code := bakeplan(t, "plan", "--offline", "-f", spec, "-out", planFile); code != 0 {
		t.Fatal(errOut)
	}
	if out, _, code := bakeplan(t, "diff", planFile, "-f", spec, "--detailed-exitcode"); code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("a fresh plan against the working tree: exit %d\n%s", code, out)
	}
	if out, _, code := bakeplan(t, "diff", spec, spec, "--detailed-exitcode"); code != 0 || !strings.Contains(out, "No changes.") {
		t.Errorf("a spec file against itself: exit %d\n%s", code, out)
	}

	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nLABEL x=y\n"), 0o644)
	_, errOut, code := bakeplan(t, "apply", planFile, "-f", spec, "--offline", "--var", "V=2")
	if code != 1 || !strings.Contains(errOut, "is stale; nothing was run") ||
		!strings.Contains(errOut, "build.app: dockerfile Dockerfile changed") || !strings.Contains(errOut, "var.V changed") {
		t.Errorf("a stale plan: exit %d\n%s", code, errOut)
	}

	data, _ := os.ReadFile(planFile)
	os.WriteFile(planFile, []byte(strings.Replace(string(data), `"V": "1"`, `"V": "3"`, 1)), 0o644)
	_, errOut, code = bakeplan(t, "apply", planFile, "-f", spec, "--offline")
	if code != 1 || !strings.Contains(errOut, "the file was changed after it was written") {
		t.Errorf("a tampered plan: exit %d\n%s", code, errOut)
	}
}

// TestFreshPlanApplies saves a plan and applies it against the real test
// environment.
func TestFreshPlanApplies(t *testing.T) {
	e := testenv.Get(t)
	bk, reg, base := e.Buildkit, e.Registry, e.Base
	dir := t.TempDir()
	spec := filepath.Join(dir, "bakeplan.hcl")
	os.WriteFile(spec, []byte(`variable "TOKEN" {
  sensitive = true
  default   = "s3cret"
}
registry "local" {
  host = "`+reg+`"
}
target "saved" {
  dockerfile_inline = "FROM `+base+`\nARG TOKEN\nRUN test -n \"$TOKEN\""
  args = { TOKEN = var.TOKEN }
  tags = ["`+reg+`/saved:1"]
  push = true
}
`), 0o644)
	env := []string{"BUILDKIT_HOST=" + bk}
	planFile := filepath.Join(t.TempDir(), "p.json")
	if _, errOut, code := runWith(t, env, "plan", "-f", spec, "-out", planFile); code != 0 {
		t.Fatal(errOut)
	}
	if b, _ := os.ReadFile(planFile); strings.Contains(string(b), "s3cret") {
		t.Fatal("the saved plan holds the sensitive value")
	}
	out, errOut, code := runWith(t, env, "apply", planFile, "-f", spec, "--progress", "quiet")
	if code != 0 || !strings.HasPrefix(out, "saved sha256:") {
		t.Fatalf("apply of a fresh saved plan: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDiffOutsideGit says plainly that there is no revision to compare with.
func TestDiffOutsideGit(t *testing.T) {
	spec := writeSpec(t, "target \"a\" {\n}\n")
	if err := os.WriteFile(filepath.Join(filepath.Dir(spec), "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runWith(t, []string{"GIT_CEILING_DIRECTORIES=" + filepath.Dir(filepath.Dir(spec))}, "diff", "-f", spec)
	if code != 1 || !strings.Contains(errOut, "is not in a git repository") || strings.Contains(errOut, `""`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
