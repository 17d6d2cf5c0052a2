package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
)

// solves counts the builds BuildKit has recorded in its history whose
// build arg TESTRUN is run: a run that sends no solve leaves the count as
// it was. (Other packages' tests build on the same buildkitd meanwhile.)
func solves(t *testing.T, addr, run string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Only the builds since the run began: the history of a long-lived
	// builder outgrows one gRPC message, and other tests' builds are not
	// this one's to count. run is the run's start, in Unix nanoseconds.
	req := &controlapi.BuildHistoryRequest{EarlyExit: true}
	if ns, err := strconv.ParseInt(run, 10, 64); err == nil {
		since := time.Unix(0, ns).Add(-time.Second).UTC().Format(time.RFC3339)
		req.Filter = []string{"startedAt>=" + since}
	}
	stream, err := c.ControlClient().ListenBuildHistory(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return len(refs)
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Record != nil && ev.Record.FrontendAttrs["build-arg:TESTRUN"] == run {
			refs[ev.Record.Ref] = true
		}
	}
}

// solvesSince is how many solves of run BuildKit recorded after before,
// once the count settles: a record lands in the history a moment after
// its solve returns. It waits for want at most, and a little when want is
// none, so that a stray solve is caught.
func solvesSince(t *testing.T, addr, run string, before, want int) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	if want == 0 {
		time.Sleep(500 * time.Millisecond)
	}
	for {
		got := solves(t, addr, run) - before
		if got >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUpToDateBuildsAreSkipped: three targets, each feeding the next as a
// named context, applied twice: the second run sends no solve and says so.
// Then one input at a time changes, and exactly the right targets rebuild
// (or only re-tag), each with the right reason; a failed run leaves nothing
// claiming to be up to date.
func TestUpToDateBuildsAreSkipped(t *testing.T) {
	env := testenv.Get(t)
	run := fmt.Sprint(time.Now().UnixNano())
	repo := fmt.Sprintf("%s/e2e-uptodate-%s", env.Registry, run)
	dir := t.TempDir()
	write := func(name, body string) { t.Helper(); writeFile(t, dir, name, body) }
	header := testBlocks(env)
	// The base image the chain starts from, pushed under one tag twice.
	pushImage := func(marker string) {
		t.Helper()
		write("img/marker", marker)
		write("img/bakeplan.hcl", header+fmt.Sprintf("target \"img\" {\n  dockerfile_inline = \"FROM scratch\\nCOPY marker /marker\"\n  platforms = [\"linux/amd64\", \"linux/arm64\", \"linux/riscv64\"]\n  tags = [%q]\n  push = true\n}\n", repo+"/img:v1"))
		if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "--rebuild", "-f", filepath.Join(dir, "img/bakeplan.hcl")); code != 0 {
			t.Fatalf("pushing the base image: exit %d\n%s", code, errOut)
		}
	}
	spec := func(version, platforms string) string {
		write("app/bakeplan.hcl", header+fmt.Sprintf(`target "base" {
  context   = "base"
  args      = { TESTRUN = %[4]q }
  platforms = [%[3]s]
  tags      = ["%[1]s/base:1"]
  push      = true
}
target "mid" {
  context   = "mid"
  args      = { TESTRUN = %[4]q }
  contexts  = { base = target.base }
  platforms = [%[3]s]
  tags      = ["%[1]s/mid:1"]
  push      = true
}
target "app" {
  context   = "app"
  contexts  = { mid = target.mid }
  args      = { VERSION = %[2]q, TESTRUN = %[4]q }
  platforms = [%[3]s]
  tags      = ["%[1]s/app:1", "%[1]s/app:latest"]
  push      = true
}
`, repo, version, platforms, run))
		return filepath.Join(dir, "app/bakeplan.hcl")
	}
	write("app/base/Dockerfile", fmt.Sprintf("FROM %s/img:v1\nARG TESTRUN\nCOPY b.txt /b.txt\n", repo))
	write("app/base/b.txt", "base\n")
	write("app/mid/Dockerfile", "FROM base\nARG TESTRUN\nCOPY m.txt /m.txt\n")
	write("app/mid/m.txt", "mid\n")
	write("app/app/Dockerfile", "FROM mid\nARG VERSION TESTRUN\nCOPY a.txt /a.txt\nLABEL version=$VERSION\n")
	write("app/app/a.txt", "app\n")
	two := `"linux/amd64", "linux/arm64"`
	s := spec("1", two)

	plan := func(wantCode int, want ...string) string {
		t.Helper()
		out, errOut, code := bakeplan(t, "plan", "--detailed-exitcode", "-f", s)
		if code != wantCode {
			t.Fatalf("plan: exit %d, want %d\n%s%s", code, wantCode, out, errOut)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("plan does not say %q:\n%s", w, out)
			}
		}
		return out
	}
	apply := func(wantSolves int, extra ...string) string {
		t.Helper()
		before := solves(t, env.Buildkit, run)
		out, errOut, code := bakeplan(t, append([]string{"apply", "--auto-approve", "--progress", "quiet", "-f", s}, extra...)...)
		if code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, errOut)
		}
		if got := solvesSince(t, env.Buildkit, run, before, wantSolves); got != wantSolves {
			t.Fatalf("apply sent %d solves, want %d\n%s%s", got, wantSolves, out, errOut)
		}
		return errOut
	}

	pushImage("v1")
	if _, errOut, code := bakeplan(t, "lock", "-f", s); code != 0 {
		t.Fatalf("lock: exit %d\n%s", code, errOut)
	}
	plan(2, "Builds: 0 up to date, 0 to re-tag, 3 to run.", "tag "+repo+"/base:1 missing")
	apply(3)
	plan(0, "Builds: 3 up to date, 0 to re-tag, 0 to run.")
	summary := apply(0)
	if strings.Count(summary, "up to date") != 3 {
		t.Fatalf("the summary does not say 3 up to date:\n%s", summary)
	}

	// A file in one context: that target and the one it feeds rebuild;
	// the first is read from the registry by digest.
	write("app/mid/m.txt", "mid, edited\n")
	plan(2, "context mid/ changed (1 file: m.txt)", "named context mid changed", "Builds: 1 up to date, 0 to re-tag, 2 to run.")
	apply(2)

	// An arg.
	s = spec("2", two)
	plan(2, "arg VERSION 1 → 2", "Builds: 2 up to date, 0 to re-tag, 1 to run.")
	apply(1)

	// A deleted tag: only re-tagged, without a build.
	deleteTag(t, env.Registry, repo+"/app:latest")
	plan(2, "tag "+repo+"/app:latest missing", "Builds: 2 up to date, 1 to re-tag, 0 to run.")
	apply(0)
	plan(0, "Builds: 3 up to date")

	// The locked base image moves, and lock -upgrade moves the pin.
	pushImage("v2")
	// The lock still holds v1: every build is up to date; the drift alone
	// is pending.
	plan(2, "moved in their registries", "Builds: 3 up to date, 0 to re-tag, 0 to run.")
	if _, errOut, code := bakeplan(t, "lock", "-upgrade", "-f", s); code != 0 {
		t.Fatalf("lock -upgrade: exit %d\n%s", code, errOut)
	}
	plan(2, "base "+repo+"/img:v1 moved sha256:", "Builds: 0 up to date, 0 to re-tag, 3 to run.")
	apply(3)

	// A platform.
	s = spec("2", `"linux/amd64", "linux/arm64", "linux/riscv64"`)
	plan(2, "platform linux/riscv64 added")
	apply(3)

	// --rebuild forces what is up to date.
	apply(1, "--rebuild=base")

	// A failed run leaves no image claiming to be up to date: the tags did
	// not move, so the next plan still builds the changed target.
	write("app/mid/m.txt", "mid, edited again\n")
	write("app/app/Dockerfile", "FROM mid\nARG TESTRUN\nCOPY missing.txt /x\n")
	if _, _, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", s); code != 1 {
		t.Fatalf("a failing apply: exit %d, want 1", code)
	}
	write("app/app/Dockerfile", "FROM mid\nARG VERSION TESTRUN\nCOPY a.txt /a.txt\nLABEL version=$VERSION\n")
	plan(2, "context mid/ changed (1 file: m.txt)", "Builds: 1 up to date, 0 to re-tag, 2 to run.")
}

// deleteTag removes a tag from the plain test registry.
func deleteTag(t *testing.T, registry, ref string) {
	t.Helper()
	repo, tag, _ := strings.Cut(strings.TrimPrefix(ref, registry+"/"), ":")
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("http://%s/v2/%s/manifests/%s", registry, repo, tag), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deleting %s: %s", ref, resp.Status)
	}
}

// TestLocalOutputsUpToDate: a build that writes only a local directory is
// up to date while its output is as it wrote it: the local state records
// its inputs and the output's digest. A deleted or edited output, or a
// changed context file, makes it run again, each with its reason.
func TestLocalOutputsUpToDate(t *testing.T) {
	env := testenv.Get(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	run := fmt.Sprint(time.Now().UnixNano())
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	files := map[string]string{
		"bakeplan.hcl":    fmt.Sprintf("builder \"default\" {\n  endpoint = %q\n}\ntarget \"site\" {\n  context = \"site\"\n  dockerfile_inline = \"FROM scratch\\nARG TESTRUN\\nCOPY . /\"\n  args = { TESTRUN = %q }\n  output = [{ type = \"local\", dest = %q }]\n}\n", env.Buildkit, run, out),
		"site/index.html": "<h1>hello</h1>\n",
	}
	for n, b := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(dir, "bakeplan.hcl")
	plan := func(wantCode int, want string) {
		t.Helper()
		stdout, errOut, code := bakeplan(t, "plan", "--detailed-exitcode", "-f", spec)
		if code != wantCode || !strings.Contains(stdout, want) {
			t.Fatalf("plan: exit %d, want %d and %q\n%s%s", code, wantCode, want, stdout, errOut)
		}
	}
	apply := func(wantSolves int) {
		t.Helper()
		before := solves(t, env.Buildkit, run)
		if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, errOut)
		}
		if got := solvesSince(t, env.Buildkit, run, before, wantSolves); got != wantSolves {
			t.Fatalf("apply sent %d solves, want %d", got, wantSolves)
		}
	}
	plan(2, "never built here")
	apply(1)
	plan(0, "Builds: 1 up to date")
	apply(0)

	if err := os.RemoveAll(out); err != nil {
		t.Fatal(err)
	}
	plan(2, "output "+out+" missing")
	apply(1)
	if err := os.WriteFile(filepath.Join(out, "index.html"), []byte("edited by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan(2, "output "+out+" changed since it was written")
	apply(1)
	if err := os.WriteFile(filepath.Join(dir, "site/about.html"), []byte("about\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan(2, "context site/ changed (1 file: about.html)")
	apply(1)
	plan(0, "Builds: 1 up to date")
}

// TestUpToDateWithTheContextIndex: with the context index on, an edit that
// keeps a file's size and mtime (only its ctime moves) still rebuilds, and
// BuildKit, building it again, produces another image; a touch that
// changes nothing the build reads leaves the build up to date. The index
// is proven against a plain walk in compiler/inputs; this asks the engine.
func TestUpToDateWithTheContextIndex(t *testing.T) {
	env := testenv.Get(t)
	run := fmt.Sprint(time.Now().UnixNano())
	ref := fmt.Sprintf("%s/e2e-index-%s/app:1", env.Registry, run)
	dir := t.TempDir()
	environ := []string{"BAKEPLAN_CACHE_DIR=" + t.TempDir()}
	writeFile(t, dir, "app/Dockerfile", "FROM scratch\nARG TESTRUN\nCOPY f.txt /f.txt\n")
	file := writeFile(t, dir, "app/f.txt", "one\n")
	s := writeFile(t, dir, "bakeplan.hcl", testBlocks(env)+fmt.Sprintf(`target "app" {
  context = "app"
  args    = { TESTRUN = %q }
  tags    = [%q]
  push    = true
}
`, run, ref))
	// The index keeps only what was written more than two seconds before.
	time.Sleep(2100 * time.Millisecond)

	plan := func(want string) {
		t.Helper()
		out, errOut, code := runWith(t, environ, "plan", "-f", s)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("plan: exit %d, want %q in:\n%s%s", code, want, out, errOut)
		}
	}
	apply := func(want int) string {
		t.Helper()
		before := solves(t, env.Buildkit, run)
		out, errOut, code := runWith(t, environ, "apply", "--auto-approve", "--progress", "quiet", "-f", s)
		if code != 0 {
			t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
		}
		if got := solvesSince(t, env.Buildkit, run, before, want); got != want {
			t.Fatalf("apply sent %d solves, want %d\n%s", got, want, errOut)
		}
		return manifestDigest(t, env.Registry, ref)
	}

	first := apply(1)
	plan("Builds: 1 up to date")
	if files, _ := filepath.Glob(filepath.Join(strings.TrimPrefix(environ[0], "BAKEPLAN_CACHE_DIR="), "contexts", "*")); len(files) != 1 {
		t.Fatalf("no index was kept: %v", files)
	}

	// Same size, same mtime, other content.
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(file, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	plan("context app/ changed (1 file: f.txt)")
	if second := apply(1); second == first {
		t.Fatalf("BuildKit rebuilt the edited context into the same image %s", first)
	}

	// A touch: the files BuildKit would receive are the same.
	time.Sleep(2100 * time.Millisecond)
	now := time.Now()
	if err := os.Chtimes(file, now, now); err != nil {
		t.Fatal(err)
	}
	plan("Builds: 1 up to date")
	apply(0)
}

// manifestDigest is the digest the plain test registry serves for ref.
func manifestDigest(t *testing.T, registry, ref string) string {
	t.Helper()
	repo, tag, _ := strings.Cut(strings.TrimPrefix(ref, registry+"/"), ":")
	req, _ := http.NewRequest(http.MethodHead, fmt.Sprintf("http://%s/v2/%s/manifests/%s", registry, repo, tag), nil)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	d := resp.Header.Get("Docker-Content-Digest")
	if resp.StatusCode != http.StatusOK || d == "" {
		t.Fatalf("HEAD %s: %s, digest %q", ref, resp.Status, d)
	}
	return d
}
