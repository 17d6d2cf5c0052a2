package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

	// What the plan was made from is the plan's: flags that would change
	// it are refused, and say why.
	for _, args := range [][]string{
		{"-f", spec}, {"--var", "V=2"}, {"--var-file", spec}, {"--target", "app"}, {"--native-platform", "linux/arm64"},
	} {
		_, errOut, code := bakeplan(t, append([]string{"apply", planFile, "--offline", "--dry-run"}, args...)...)
		if code != 1 || !strings.Contains(errOut, "cannot be given with a plan file") {
			t.Errorf("%v with a plan file: exit %d\n%s", args, code, errOut)
		}
	}

	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nLABEL x=y\n"), 0o644)
	_, errOut, code := bakeplan(t, "apply", planFile, "--offline")
	if code != 1 || !strings.Contains(errOut, "is stale; nothing was run") ||
		!strings.Contains(errOut, "build.app: dockerfile Dockerfile changed") {
		t.Errorf("a stale plan: exit %d\n%s", code, errOut)
	}

	data, _ := os.ReadFile(planFile)
	os.WriteFile(planFile, []byte(strings.Replace(string(data), `"V": "1"`, `"V": "3"`, 1)), 0o644)
	_, errOut, code = bakeplan(t, "apply", planFile, "--offline")
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
	out, errOut, code := runWith(t, env, "apply", planFile, "--progress", "quiet")
	if code != 0 || !strings.HasPrefix(out, "saved sha256:") {
		t.Fatalf("apply of a fresh saved plan: exit %d\n%s%s", code, out, errOut)
	}
	// The same plan again, with --json: what was built and tagged.
	out, errOut, code = runWith(t, env, "apply", planFile, "--progress", "quiet", "--json")
	var sum struct {
		Builds    []struct{ Target, Digest string }
		Published []struct{ Tag, Digest string }
	}
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || len(sum.Builds) != 1 || sum.Builds[0].Digest == "" || len(sum.Published) != 1 {
		t.Errorf("apply --json: exit %d, %v\n%s%s", code, err, out, errOut)
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

// TestSavedPlanRecordsItsInputs: a plan applies with what it was made from
// (variables from --var, a var file or the environment, the selected
// targets), whatever the command line and environment say at apply; a
// sensitive value must be supplied again and match its fingerprint; a plan
// made online applies --offline.
func TestSavedPlanRecordsItsInputs(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "bakeplan.hcl")
	os.WriteFile(spec, []byte(`variable "VERSION" {
  default = "dev"
}
variable "LIST" {
  type    = list(string)
  default = []
}
variable "TOKEN" {
  sensitive = true
}
target "app" {
  args = { VERSION = var.VERSION, N = length(var.LIST) }
  labels = { token = var.TOKEN }
}
target "other" {
}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	varFile := filepath.Join(t.TempDir(), "v.hcl")
	os.WriteFile(varFile, []byte(`LIST = ["a", "b"]`+"\n"), 0o644)
	planFile := filepath.Join(t.TempDir(), "p.json")
	env := []string{"BAKEPLAN_VAR_TOKEN=s3cret"}
	if _, errOut, code := runWith(t, env, "plan", "--offline", "-f", spec, "--var", "VERSION=v1.2.3", "--var-file", varFile, "app", "-out", planFile); code != 0 {
		t.Fatal(errOut)
	}
	// The environment cannot change a recorded or defaulted variable.
	applyEnv := []string{"BAKEPLAN_VAR_TOKEN=s3cret", "BAKEPLAN_VAR_VERSION=v9.9.9"}
	out, errOut, code := runWith(t, applyEnv, "apply", planFile, "--offline", "--dry-run")
	if code != 0 || !strings.Contains(out, "build.app") || strings.Contains(out, "build.other") || !strings.Contains(out, "v1.2.3") {
		t.Errorf("applying the plan: exit %d\n%s%s", code, out, errOut)
	}
	// The sensitive value comes again, from the environment or --var.
	if _, errOut, code := runWith(t, nil, "apply", planFile, "--offline", "--dry-run", "--var", "TOKEN=s3cret"); code != 0 {
		t.Errorf("--var for a sensitive variable: exit %d\n%s", code, errOut)
	}
	_, errOut, code = runWith(t, []string{"BAKEPLAN_VAR_TOKEN=other"}, "apply", planFile, "--offline", "--dry-run")
	if code != 1 || !strings.Contains(errOut, "var.TOKEN changed") {
		t.Errorf("a sensitive value that does not match: exit %d\n%s", code, errOut)
	}
}

// TestSavedPlanProbesOnce: applying a plan made online probes the host
// once (with --probe-registry-writes, one probe write per registry, not
// two), and the same plan applies --offline.
func TestSavedPlanProbesOnce(t *testing.T) {
	e := testenv.Get(t)
	var mu sync.Mutex
	writes := 0
	upstream, _ := url.Parse("http://" + e.Registry)
	rp := httputil.NewSingleHostReverseProxy(upstream)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/bakeplan-probe/") {
			mu.Lock()
			writes++
			mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	spec := filepath.Join(dir, "bakeplan.hcl")
	os.WriteFile(spec, []byte(`builder "default" {
  endpoint = "`+e.Buildkit+`"
}
registry "counted" {
  host     = "`+host+`"
  insecure = true
}
target "app" {
  dockerfile_inline = "FROM scratch"
  platforms = ["linux/amd64"]
}
`), 0o644)
	planFile := filepath.Join(t.TempDir(), "p.json")
	if _, errOut, code := runWith(t, nil, "plan", "--probe-registry-writes", "-f", spec, "-out", planFile); code != 0 {
		t.Fatal(errOut)
	}
	mu.Lock()
	writes = 0
	mu.Unlock()
	if out, errOut, code := runWith(t, nil, "apply", planFile, "--probe-registry-writes", "--dry-run"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if writes != 1 {
		t.Errorf("applying the saved plan made %d probe writes, want 1", writes)
	}
	if out, errOut, code := runWith(t, nil, "apply", planFile, "--offline", "--dry-run"); code != 0 {
		t.Errorf("apply --offline of a plan made online: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDiffWorkTreeLikeRevision: with the context at the repository's top,
// the working tree is compared with a revision on the same footing: .git
// is no added file (a clean checkout has no changes), and a file no commit
// holds is named as not committed, apart from the commit's own changes.
func TestDiffWorkTreeLikeRevision(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	spec := filepath.Join(dir, "bakeplan.hcl")
	os.WriteFile(spec, []byte("target \"app\" {\n  tags = [\"r.example.com/app:1\"]\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY . /\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("build/\n"), 0o644)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "one")

	out, errOut, code := bakeplan(t, "diff", "--base", "HEAD", "-f", spec, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "No changes.") {
		t.Fatalf("a clean checkout against its own commit: exit %d\n%s%s", code, out, errOut)
	}

	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main // edited\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("scratch\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "build"), 0o755)
	os.WriteFile(filepath.Join(dir, "build", "out.bin"), []byte("x"), 0o644)
	out, errOut, code = bakeplan(t, "diff", "--base", "HEAD", "-f", spec, "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "context . changed: ~main.go; not committed (untracked or ignored by git): build/, build/out.bin, notes.txt") {
		t.Errorf("the change is not named on the same footing:\n%s", out)
	}
	if strings.Contains(out, ".git/") {
		t.Errorf("the working tree's .git shows as a change:\n%s", out)
	}
}

// TestDiffSplit: --split writes the Markdown comment in numbered parts of
// at most --max-bytes each and prints their names; without --format
// markdown it is refused.
func TestDiffSplit(t *testing.T) {
	dir := t.TempDir()
	gen := func(tag string) string {
		var b strings.Builder
		for i := range 60 {
			fmt.Fprintf(&b, "target \"svc-%02d\" {\n  args = { N = \"%d-%s\" }\n  tags = [\"r.example.com/svc-%02d:%s\"]\n}\n", i, i, tag, i, tag)
		}
		return b.String()
	}
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nARG N\n"), 0o644)
	base := filepath.Join(dir, "base.hcl")
	head := filepath.Join(dir, "head.hcl")
	os.WriteFile(base, []byte(gen("v1")), 0o644)
	os.WriteFile(head, []byte(gen("v2")), 0o644)
	prefix := filepath.Join(dir, "comment")
	out, errOut, code := bakeplan(t, "diff", base, head, "-f", head, "--format", "markdown", "--split", prefix, "--max-bytes", "3000")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	names := strings.Fields(out)
	if len(names) < 2 {
		t.Fatalf("%d part(s): %q", len(names), out)
	}
	for i, n := range names {
		if n != fmt.Sprintf("%s-%d.md", prefix, i+1) {
			t.Errorf("part %d is %s", i+1, n)
		}
		b, err := os.ReadFile(n)
		if err != nil || len(b) > 3000 || !strings.Contains(string(b), fmt.Sprintf("_Part %d of %d._", i+1, len(names))) {
			t.Errorf("%s: %d bytes, %v", n, len(b), err)
		}
	}
	if _, errOut, code := bakeplan(t, "diff", base, head, "-f", head, "--split", prefix); code != 1 || !strings.Contains(errOut, "--split writes a Markdown comment") {
		t.Errorf("--split without markdown: exit %d\n%s", code, errOut)
	}
}

// TestReviewOfAMonorepoCommit: the review issue's case. 300 targets with
// their context at the repository's top (each COPY src/), one commit that
// bumps a tag and an arg everywhere and also edits the spec and a doc. The
// comment fits GitHub's limit, names the shared changes once, and no build
// rebuilds for files it does not read (the spec, docs/, .git).
func TestReviewOfAMonorepoCommit(t *testing.T) {
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	write := func(name, body string) { writeFile(t, dir, name, body) }
	gen := func(tag, idx string) string {
		var b strings.Builder
		for i := 1; i <= 300; i++ {
			fmt.Fprintf(&b, "target \"svc-%03d\" {\n  args = { IDX = %q }\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n  tags = [\"registry.example.com/team/svc-%03d:%s\"]\n}\n", i, idx, i, tag)
		}
		return b.String()
	}
	write("Dockerfile", "FROM scratch\nARG IDX\nCOPY src/ /src/\n")
	write("src/main.go", "package main\n")
	spec := filepath.Join(dir, "bakeplan.hcl")
	write("bakeplan.hcl", gen("v1", "1"))
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "one")
	write("bakeplan.hcl", gen("v2", "2"))
	write("docs/notes.md", "# notes\n")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "two")

	out, errOut, code := bakeplan(t, "diff", "--base", "HEAD~1", "-f", spec, "--format", "markdown", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if len(out) > 65536 {
		t.Errorf("the comment is %d bytes, over GitHub's limit", len(out))
	}
	for _, want := range []string{"**300 targets**: ~ build `args.IDX`: 1 -&gt; 2", "**300 targets**: ~ build `tags`: +…:v2, -…:v1"} {
		if strings.Count(out, want) != 1 {
			t.Errorf("%q is not written exactly once", want)
		}
	}
	if strings.Contains(out, "rebuild") || strings.Contains(out, ".git") {
		t.Errorf("a build rebuilds for a file it does not read:\n%.3000s", out)
	}
}

// TestSpecNames: bake's own override files in both forms are written to
// two spec files, not one.
func TestSpecNames(t *testing.T) {
	got := specNames("d/bakeplan.hcl", []string{"d/docker-bake.hcl", "d/docker-bake.override.hcl", "d/docker-bake.override.json", "d/extra.hcl"})
	want := []string{"d/bakeplan.hcl", "d/bakeplan.override.hcl", "d/bakeplan.override-json.hcl", "d/bakeplan.extra.hcl"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%v, want %v", got, want)
	}
}
