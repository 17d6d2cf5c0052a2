package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// releaseProject is a directory with a Dockerfile that RUNs (so that file
// times and the image's created time would differ between builds) and a
// file it copies.
type releaseProject struct {
	t   *testing.T
	env testenv.Env
	dir string
}

func newReleaseProject(t *testing.T, run string) *releaseProject {
	env := testenv.Get(t)
	testenv.Emulates(t)
	rp := &releaseProject{t: t, env: env, dir: t.TempDir()}
	rp.write("Dockerfile", "ARG BASE\nFROM ${BASE}\nRUN "+run+"\nCOPY app /app\n")
	rp.write("app", "the app\n")
	// The spec (which these tests rewrite between builds, naming another
	// builder or tag) and the lock are no input of the image; every file
	// of the context is, through the input record the index carries.
	rp.write(".dockerignore", "bakeplan.hcl\nbakeplan.lock.hcl\n")
	return rp
}

func (rp *releaseProject) write(name, body string) {
	rp.t.Helper()
	writeFile(rp.t, rp.dir, name, body)
}

// spec writes the spec: builder endpoint, the release block (or none),
// the tag and extra target attributes.
func (rp *releaseProject) spec(buildkit, release, tag, extra string) string {
	rp.write("bakeplan.hcl", fmt.Sprintf(`%s
builder "default" {
  endpoint = %q
}
registry "local" {
  host     = %q
  insecure = true
}
host {
  emulators = ["arm64"]
}
target "app" {
  args      = { BASE = %q }
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = [%q]
  push      = true
%s}
`, release, buildkit, rp.env.Registry, rp.env.Base, tag, extra))
	return filepath.Join(rp.dir, "bakeplan.hcl")
}

// touch moves every context file's mtime, as a fresh checkout would.
func (rp *releaseProject) touch() {
	later := time.Now().Add(time.Duration(time.Now().UnixNano()%1000) * time.Second)
	for _, n := range []string{"app", "Dockerfile"} {
		if err := os.Chtimes(filepath.Join(rp.dir, n), later, later); err != nil {
			rp.t.Fatal(err)
		}
	}
}

func (rp *releaseProject) apply(spec string) {
	rp.t.Helper()
	if _, errOut, code := bakeplan(rp.t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec); code != 0 {
		rp.t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
}

// index reads ref's index from the plain test registry: its digest and
// its manifests by platform.
func (rp *releaseProject) index(ref string) (string, map[string]string) {
	rp.t.Helper()
	repo, tag, _ := strings.Cut(strings.TrimPrefix(ref, rp.env.Registry+"/"), ":")
	body, dgst := rp.get(repo, tag, ocispec.MediaTypeImageIndex)
	var idx ocispec.Index
	if err := json.Unmarshal(body, &idx); err != nil {
		rp.t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Platform.OS != "unknown" {
			out[m.Platform.OS+"/"+m.Platform.Architecture] = m.Digest.String()
		}
	}
	return dgst, out
}

func (rp *releaseProject) get(repo, ref, accept string) ([]byte, string) {
	rp.t.Helper()
	kind := "manifests"
	if strings.HasPrefix(accept, "blob") {
		kind, accept = "blobs", ""
	}
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/%s/%s", rp.env.Registry, repo, kind, ref), nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rp.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		rp.t.Fatalf("GET %s/%s: %s\n%s", repo, ref, resp.Status, b)
	}
	return b, resp.Header.Get("Docker-Content-Digest")
}

// TestReproducibleRelease: the same release built on two buildkitd
// instances with different state roots, some seconds apart, with the
// context files' mtimes moved in between, gives the same index and the
// same per-platform manifests; without the release block the same two
// builds differ (so the comparison can fail). verify then passes, and
// with provenance attached only the index differs.
func TestReproducibleRelease(t *testing.T) {
	rp := newReleaseProject(t, "echo built > /built && mkdir -p /data && echo x > /data/y")
	repo := fmt.Sprintf("%s/e2e-release-%d", rp.env.Registry, time.Now().UnixNano())
	release := "release {\n  source_date_epoch = 1700000000\n}\n"

	spec := rp.spec(rp.env.Buildkit, release, repo+":one", "")
	if _, errOut, code := bakeplan(t, "lock", "-f", spec); code != 0 {
		t.Fatalf("lock: exit %d\n%s", code, errOut)
	}
	rp.apply(spec)
	rp.touch()
	time.Sleep(2 * time.Second)
	rp.apply(rp.spec(rp.env.TLSBuildkit, release, repo+":two", ""))
	i1, m1 := rp.index(repo + ":one")
	i2, m2 := rp.index(repo + ":two")
	if len(m1) != 2 || fmt.Sprint(m1) != fmt.Sprint(m2) || i1 != i2 {
		t.Fatalf("two builds of the release differ:\n one %s %v\n two %s %v", i1, m1, i2, m2)
	}

	// The control: without a release block, the same two builds differ.
	rp.apply(rp.spec(rp.env.Buildkit, "", repo+":plain-one", ""))
	rp.touch()
	time.Sleep(2 * time.Second)
	rp.apply(rp.spec(rp.env.TLSBuildkit, "", repo+":plain-two", ""))
	p1, _ := rp.index(repo + ":plain-one")
	p2, _ := rp.index(repo + ":plain-two")
	if p1 == p2 {
		t.Fatalf("builds without a release block are identical too (%s); the comparison above proves nothing", p1)
	}

	// verify on the other builder finds the release identical.
	spec = rp.spec(rp.env.Buildkit, release, repo+":one", "")
	out, errOut, code := bakeplan(t, "verify", "--progress", "quiet", "-f", spec)
	if code != 0 || !strings.Contains(out, "= linux/arm64 "+m1["linux/arm64"]) {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}

	// Against a release run's metadata file rather than the tag.
	meta := filepath.Join(t.TempDir(), "release.json")
	if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "--metadata-file", meta, "-f", spec); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	out, errOut, code = bakeplan(t, "verify", "--progress", "quiet", "--metadata-file", meta, "-f", spec)
	if code != 0 || !strings.Contains(out, "against the release's "+i1) {
		t.Fatalf("verify --metadata-file: exit %d\n%s%s", code, out, errOut)
	}

	// Provenance records build times: the index differs, each platform's
	// image does not, and verify still passes.
	prov := "  attest = [{ type = \"provenance\", mode = \"max\" }]\n"
	rp.apply(rp.spec(rp.env.Buildkit, release, repo+":prov-one", prov))
	time.Sleep(2 * time.Second)
	rp.apply(rp.spec(rp.env.TLSBuildkit, release, repo+":prov-two", prov))
	v1, pm1 := rp.index(repo + ":prov-one")
	v2, pm2 := rp.index(repo + ":prov-two")
	if fmt.Sprint(pm1) != fmt.Sprint(m1) || fmt.Sprint(pm2) != fmt.Sprint(m1) {
		t.Fatalf("provenance changed the platform images:\n%v\n%v\nwant %v", pm1, pm2, m1)
	}
	if v1 == v2 {
		t.Logf("note: the two provenance indexes are identical (%s)", v1)
	}
	out, errOut, code = bakeplan(t, "verify", "--progress", "quiet", "-f", rp.spec(rp.env.TLSBuildkit, release, repo+":prov-one", prov))
	if code != 0 || !strings.Contains(out, "attestations differ") {
		t.Fatalf("verify with provenance: exit %d\n%s%s", code, out, errOut)
	}
}

// TestVerifyNamesTheDifference: a release whose RUN writes the time is
// not reproducible; verify exits 2 and names the file and its layer.
func TestVerifyNamesTheDifference(t *testing.T) {
	rp := newReleaseProject(t, "date +%s%N > /built")
	tag := fmt.Sprintf("%s/e2e-verify-%d:v1", rp.env.Registry, time.Now().UnixNano())
	spec := rp.spec(rp.env.Buildkit, "release {\n  source_date_epoch = 1700000000\n}\n", tag, "")
	if _, errOut, code := bakeplan(t, "lock", "-f", spec); code != 0 {
		t.Fatalf("lock: exit %d\n%s", code, errOut)
	}
	rp.apply(spec)
	time.Sleep(1100 * time.Millisecond)
	out, errOut, code := bakeplan(t, "verify", "--progress", "quiet", "-f", spec)
	if code != 2 || !strings.Contains(out, "changed /built: ") || !strings.Contains(out, "layer 2: sha256:") || !strings.Contains(out, "NOT identical") {
		t.Fatalf("verify: exit %d, want 2 naming /built and its layer\n%s%s", code, out, errOut)
	}
	js, _, code := bakeplan(t, "verify", "--progress", "quiet", "--json", "-f", spec)
	if code != 2 || !strings.Contains(js, `"path": "/built"`) {
		t.Fatalf("verify --json: exit %d\n%s", code, js)
	}
}

// TestGitEpoch: source_date_epoch = "git" takes the commit time of HEAD:
// the image's created time is the commit's. A dirty tree is refused.
func TestGitEpoch(t *testing.T) {
	rp := newReleaseProject(t, "true")
	tag := fmt.Sprintf("%s/e2e-git-%d:v1", rp.env.Registry, time.Now().UnixNano())
	spec := rp.spec(rp.env.Buildkit, "release {\n  source_date_epoch = \"git\"\n}\n", tag, "")
	// lock works outside git and in a dirty tree: it reads no epoch.
	if _, errOut, code := bakeplan(t, "lock", "-f", spec); code != 0 {
		t.Fatalf("lock: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := bakeplan(t, "plan", "--offline", "-f", spec); code != 1 || !strings.Contains(errOut, "No git repository") {
		t.Fatalf("outside git: exit %d\n%s", code, errOut)
	}
	committed := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	gitIn := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", rp.dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+committed.Format(time.RFC3339), "GIT_COMMITTER_DATE="+committed.Format(time.RFC3339),
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitIn("init", "-q")
	gitIn("add", ".")
	gitIn("commit", "-q", "-m", "release")

	rp.write("app", "changed, not committed\n")
	if _, errOut, code := bakeplan(t, "plan", "--offline", "-f", spec); code != 1 || !strings.Contains(errOut, "Uncommitted changes") {
		t.Fatalf("a dirty tree: exit %d\n%s", code, errOut)
	}
	gitIn("checkout", "--", "app")

	out, _, code := bakeplan(t, "plan", "--offline", "-f", spec)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("SOURCE_DATE_EPOCH=%d (2024-03-01T12:00:00Z), from the commit time of git HEAD", committed.Unix())) {
		t.Fatalf("plan: exit %d\n%s", code, out)
	}
	rp.apply(spec)
	repo, ref, _ := strings.Cut(strings.TrimPrefix(tag, rp.env.Registry+"/"), ":")
	_, plats := rp.index(tag)
	body, _ := rp.get(repo, plats["linux/amd64"], ocispec.MediaTypeImageManifest)
	var m ocispec.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	body, _ = rp.get(repo, m.Config.Digest.String(), "blob")
	var cfg ocispec.Image
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Created == nil || !cfg.Created.Equal(committed) {
		t.Fatalf("the image of %s was created %v, want the commit time %v", ref, cfg.Created, committed)
	}
}

// TestReleaseExampleReproducible: examples/release, locked against the test
// registry, built on two buildkitd instances with different state roots,
// seconds apart, its context files' mtimes moved in between: every target
// gives the same index and per-platform manifests. verify on the other
// instance passes.
func TestReleaseExampleReproducible(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t)
	t.Setenv("GIT_TOKEN", "not-a-secret")
	dir := filepath.Join(t.TempDir(), "release")
	if err := os.CopyFS(dir, os.DirFS("../../examples/release")); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "bakeplan.hcl")
	repo := fmt.Sprintf("%s/e2e-example-%d", env.Registry, time.Now().UnixNano())
	vars := []string{"BAKEPLAN_VAR_BASE=" + env.Base, "BAKEPLAN_VAR_REGISTRY=" + repo, "SOURCE_DATE_EPOCH=1700000000"}
	run := func(buildkit string, args ...string) string {
		t.Helper()
		out, errOut, code := runWith(t, append([]string{"BUILDKIT_HOST=" + buildkit}, vars...), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	run(env.Buildkit, "lock", "-f", spec)
	rp := &releaseProject{t: t, env: env}
	built := func(version string) map[string]string {
		out := map[string]string{}
		for _, name := range []string{"cli-community", "cli-enterprise", "server"} {
			idx, plats := rp.index(fmt.Sprintf("%s/%s:%s", repo, name, version))
			out[name] = idx + fmt.Sprint(plats)
		}
		return out
	}
	run(env.Buildkit, "apply", "--auto-approve", "--progress", "quiet", "--var", "VERSION=v1.0.0", "-f", spec)
	later := time.Now().Add(time.Hour)
	_ = filepath.WalkDir(dir, func(p string, _ os.DirEntry, _ error) error { return os.Chtimes(p, later, later) })
	time.Sleep(2 * time.Second)
	run(env.TLSBuildkit, "apply", "--auto-approve", "--progress", "quiet", "--var", "VERSION=v1.0.1", "-f", spec)
	one, two := built("v1.0.0"), built("v1.0.1")
	// The version is a label, so the two versions differ in their config;
	// a second build of v1.0.0 on the other instance must not.
	run(env.TLSBuildkit, "apply", "--auto-approve", "--progress", "quiet", "--var", "VERSION=v1.0.0", "-f", spec)
	again := built("v1.0.0")
	if fmt.Sprint(one) != fmt.Sprint(again) {
		t.Fatalf("examples/release built twice differs:\n%v\n%v", one, again)
	}
	if fmt.Sprint(one) == fmt.Sprint(two) {
		t.Fatalf("v1.0.0 and v1.0.1 are identical; the version label did not reach the images")
	}
	out := run(env.TLSBuildkit, "verify", "--progress", "quiet", "--var", "VERSION=v1.0.0", "-f", spec)
	if !strings.Contains(out, "0 different") {
		t.Fatalf("verify:\n%s", out)
	}
}

// TestReleaseAcrossCheckouts: two copies of one commit's sources, as two
// fresh clones would have them (modification times minutes apart, set
// explicitly, and modes from different umasks), built on two buildkitd
// instances by a Dockerfile whose RUN records the times, modes and owners
// it sees and packs the sources with tar. As a release, both give the same
// index and per-platform manifests; the same builds made reproducible only
// in their exported layers (SOURCE_DATE_EPOCH and rewrite-timestamp, as
// before a release sent its files clamped) differ.
func TestReleaseAcrossCheckouts(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t)
	repo := fmt.Sprintf("%s/e2e-checkouts-%d", env.Registry, time.Now().UnixNano())
	dockerfile := "ARG BASE\nFROM ${BASE}\nCOPY src /src\nRUN stat -c '%n %a %Y %u %g' /src /src/* /src/lib/* > /listing && cd / && tar -cf /src.tar src\n"
	when := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	checkout := func(mtime time.Time, fileMode, dirMode os.FileMode) *releaseProject {
		rp := &releaseProject{t: t, env: env, dir: t.TempDir()}
		rp.write("Dockerfile", dockerfile)
		rp.write(".dockerignore", "bakeplan.hcl\nbakeplan.lock.hcl\n")
		rp.write("src/main.sh", "echo main\n")
		rp.write("src/lib/util.sh", "echo util\n")
		for _, d := range []string{"src", "src/lib"} {
			if err := os.Chmod(filepath.Join(rp.dir, d), dirMode); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"src/main.sh", "src/lib/util.sh"} {
			if err := os.Chmod(filepath.Join(rp.dir, f), fileMode); err != nil {
				t.Fatal(err)
			}
		}
		for _, n := range []string{"src/main.sh", "src/lib/util.sh", "src/lib", "src", "Dockerfile"} {
			if err := os.Chtimes(filepath.Join(rp.dir, n), mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		return rp
	}
	// One clone under umask 022, the other under 002, 97 seconds later.
	a := checkout(when, 0o644, 0o755)
	b := checkout(when.Add(97*time.Second), 0o664, 0o775)
	release := "release {\n  source_date_epoch = 1700000000\n}\n"
	build := func(rp *releaseProject, buildkit, rel, tag, extra string) {
		t.Helper()
		spec := rp.spec(buildkit, rel, tag, extra)
		if rel != "" {
			if _, errOut, code := bakeplan(t, "lock", "-f", spec); code != 0 {
				t.Fatalf("lock: exit %d\n%s", code, errOut)
			}
		}
		rp.apply(spec)
	}
	build(a, env.Buildkit, release, repo+":a", "")
	build(b, env.TLSBuildkit, release, repo+":b", "")
	ia, ma := a.index(repo + ":a")
	ib, mb := b.index(repo + ":b")
	if len(ma) != 2 || fmt.Sprint(ma) != fmt.Sprint(mb) || ia != ib {
		t.Fatalf("the release differs between the two checkouts:\n a %s %v\n b %s %v", ia, ma, ib, mb)
	}

	// The control: reproducible layers alone, without the release's
	// sources sent at the epoch, give different images (solved without
	// the cache, which the release builds above filled with steps of the
	// same content: BuildKit's cache ignores file times).
	plain := func(rp *releaseProject, buildkit, tag string) map[string]string {
		t.Helper()
		rp.write("bakeplan.hcl", fmt.Sprintf(`builder "default" {
  endpoint = %q
}
host {
  emulators = ["arm64"]
}
target "app" {
  args      = { BASE = %q, SOURCE_DATE_EPOCH = "1700000000" }
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = [%q]
  push      = true
  output    = [{ type = "registry", "rewrite-timestamp" = "true" }]
  no_cache  = true
}
`, buildkit, env.Base, tag))
		rp.apply(filepath.Join(rp.dir, "bakeplan.hcl"))
		_, m := rp.index(tag)
		return m
	}
	pa := plain(a, env.Buildkit, repo+":plain-a")
	pb := plain(b, env.TLSBuildkit, repo+":plain-b")
	if fmt.Sprint(pa) == fmt.Sprint(pb) {
		t.Fatalf("builds of the two checkouts without a release are identical too (%v); the comparison above proves nothing", pa)
	}
	// verify names what a RUN saw differently: b rebuilt as a release
	// against a's plain build.
	out, errOut, code := bakeplan(t, "verify", "--progress", "quiet", "-f", b.spec(env.TLSBuildkit, release, repo+":plain-a", ""))
	if code != 2 || !strings.Contains(out, "changed /listing") || !strings.Contains(out, "changed /src.tar") {
		t.Fatalf("verify against the plain build: exit %d, want 2 naming /listing and /src.tar\n%s%s", code, out, errOut)
	}

	// Times below the epoch are as much the checkout's as those above it
	// (a restored cache, an unpacked archive): they are not kept either.
	c := checkout(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 0o644, 0o755)
	d := checkout(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC), 0o644, 0o755)
	build(c, env.Buildkit, release, repo+":c", "")
	build(d, env.TLSBuildkit, release, repo+":d", "")
	ic, mc := c.index(repo + ":c")
	id, md := d.index(repo + ":d")
	if fmt.Sprint(mc) != fmt.Sprint(md) || ic != id {
		t.Fatalf("the release differs between two checkouts older than the epoch:\n c %s %v\n d %s %v", ic, mc, id, md)
	}
	if fmt.Sprint(mc) != fmt.Sprint(ma) {
		t.Fatalf("a checkout older than the epoch gives another release than a newer one:\n %v\n %v", mc, ma)
	}
}
