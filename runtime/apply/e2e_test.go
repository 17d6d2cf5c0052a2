package apply_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/bakeplan/bakeplan/views"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2/hclparse"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// testEnv is the real environment scripts/testenv brings up.
type testEnv struct {
	buildkit, registry, docker, base string
}

func envOrSkip(t testing.TB) testEnv {
	t.Helper()
	e := testenv.Get(t)
	return testEnv{buildkit: e.Buildkit, registry: e.Registry, docker: e.DockerHost, base: e.Base}
}

// project writes files into a fresh directory and compiles its spec.
func project(t testing.TB, files map[string]string, vars ...string) (*plan.Plan, string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return compileDir(t, dir, vars...), dir
}

func compileDir(t testing.TB, dir string, vars ...string) *plan.Plan {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(dir, "bakeplan.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	s, diags := spec.Parse(hclparse.NewParser(), "bakeplan.hcl", src)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	abs, _ := filepath.Abs(dir)
	p, diags := compiler.Compile(context.Background(), s, compiler.Options{
		FS: os.DirFS("/"), SpecDir: strings.TrimPrefix(abs, "/"), SpecFile: "bakeplan.hcl",
		Vars: vars, NativePlatform: platforms.MustParse("linux/amd64"),
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func (e testEnv) options(dir string) apply.Options {
	return apply.Options{
		SpecDir:  dir,
		Env:      endpoint.Env{BuildkitHost: e.buildkit, DockerHost: e.docker},
		Progress: "quiet",
		Out:      io.Discard,
	}
}

func unique(name string) string {
	return fmt.Sprintf("e2e-%s-%d", name, time.Now().UnixNano())
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return c
}

// registry reads images over the Distribution HTTP API.
type registry struct{ host string }

func (r registry) get(t testing.TB, path string, accept ...string) (int, []byte, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+r.host+"/v2/"+path, nil)
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header.Get("Docker-Content-Digest")
}

func (r registry) index(t testing.TB, repo, ref string) (ocispecs.Index, string) {
	t.Helper()
	code, b, dgst := r.get(t, repo+"/manifests/"+ref, ocispecs.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json")
	if code != 200 {
		t.Fatalf("%s:%s: HTTP %d: %s", repo, ref, code, b)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx, dgst
}

// digest returns what a tag points at, whatever the media type.
func (r registry) digest(t testing.TB, repo, ref string) string {
	t.Helper()
	code, b, dgst := r.get(t, repo+"/manifests/"+ref, ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest,
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json")
	if code != 200 {
		t.Fatalf("%s:%s: HTTP %d: %s", repo, ref, code, b)
	}
	return dgst
}

func (r registry) exists(t testing.TB, repo, ref string) bool {
	code, _, _ := r.get(t, repo+"/manifests/"+ref, ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest)
	return code == 200
}

// file returns a file's content from the top layer of the image for one
// platform of an index.
func (r registry) file(t testing.TB, repo string, idx ocispecs.Index, platform, name string) string {
	t.Helper()
	for _, m := range idx.Manifests {
		if m.Platform == nil || platforms.Format(*m.Platform) != platform {
			continue
		}
		_, b, _ := r.get(t, repo+"/manifests/"+m.Digest.String(), m.MediaType)
		var man ocispecs.Manifest
		if err := json.Unmarshal(b, &man); err != nil {
			t.Fatal(err)
		}
		for i := len(man.Layers) - 1; i >= 0; i-- {
			_, blob, _ := r.get(t, repo+"/blobs/"+man.Layers[i].Digest.String())
			if s, ok := fileInLayer(t, blob, name); ok {
				return s
			}
		}
		t.Fatalf("%s not found in %s for %s", name, repo, platform)
	}
	t.Fatalf("%s has no %s manifest", repo, platform)
	return ""
}

func fileInLayer(t testing.TB, blob []byte, name string) (string, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == strings.TrimPrefix(name, "/") {
			b, _ := io.ReadAll(tr)
			return string(b), true
		}
	}
}

func platformsOf(idx ocispecs.Index) []string {
	var out []string
	for _, m := range idx.Manifests {
		if m.Platform != nil && m.Platform.OS != "unknown" {
			out = append(out, platforms.Format(*m.Platform))
		}
	}
	return out
}

// TestHello applies examples/hello: one index with both platforms, and the
// arm64 RUN step really ran under emulation.
func TestHello(t *testing.T) {
	e := envOrSkip(t)
	testenv.Emulates(t)
	dir, _ := filepath.Abs("../../examples/hello")
	p := compileDir(t, dir, "REGISTRY="+e.registry, "BASE="+e.base)
	sum, err := apply.Apply(ctx(t), p, e.options(dir))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry{e.registry}
	idx, dgst := reg.index(t, "hello", "latest")
	if got := strings.Join(platformsOf(idx), " "); got != "linux/amd64 linux/arm64" {
		t.Errorf("index platforms %q", got)
	}
	if sum.Published[0].Digest != dgst {
		t.Errorf("tag points at %s, apply reported %s", dgst, sum.Published[0].Digest)
	}
	if got := strings.TrimSpace(reg.file(t, "hello", idx, "linux/amd64", "arch")); got != "x86_64" {
		t.Errorf("amd64 RUN saw %q", got)
	}
	if got := strings.TrimSpace(reg.file(t, "hello", idx, "linux/arm64", "arch")); got != "aarch64" {
		t.Errorf("arm64 RUN saw %q", got)
	}
	// The same build again comes from the cache and says so.
	again, err := apply.Apply(ctx(t), p, e.options(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Builds[0].Cached {
		t.Errorf("a repeated build is not reported as cached: %+v", again.Builds[0])
	}
}

// TestDAG builds a contexts edge and a depends_on edge in the right order,
// and the dependent really builds FROM the other target's result.
func TestDAG(t *testing.T) {
	e := envOrSkip(t)
	testenv.Emulates(t)
	repo := unique("dag")
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
host {
  emulators = ["arm64"]
}
target "base" {
  context   = "base"
  platforms = ["linux/amd64", "linux/arm64"]
  args      = { BASE = %[1]q }
}
target "migrations" {
  context   = "migrations"
  args      = { BASE = %[1]q }
}
target "app" {
  context    = "app"
  contexts   = { base = target.base }
  depends_on = [target.migrations]
  platforms  = ["linux/amd64", "linux/arm64"]
  tags       = ["%[2]s/%[3]s:1"]
  push       = true
}
`, e.base, e.registry, repo),
		"base/Dockerfile":       "ARG BASE\nFROM ${BASE}\nRUN echo base-$(uname -m) > /marker\n",
		"migrations/Dockerfile": "ARG BASE\nFROM ${BASE}\nRUN sleep 1 && date > /ran\n",
		"app/Dockerfile":        "FROM base\nRUN cat /marker > /app-saw\n",
	})
	sum, err := apply.Apply(ctx(t), p, e.options(dir))
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]*apply.BuildResult{}
	for _, b := range sum.Builds {
		res[b.Target] = b
	}
	if res["app"].Started.Before(res["base"].Finished) || res["app"].Started.Before(res["migrations"].Finished) {
		t.Errorf("app started before its dependencies finished: %+v", res)
	}
	reg := registry{e.registry}
	idx, _ := reg.index(t, repo, "1")
	if got := strings.TrimSpace(reg.file(t, repo, idx, "linux/arm64", "app-saw")); got != "base-aarch64" {
		t.Errorf("app for arm64 saw %q from its base context", got)
	}
	if got := strings.TrimSpace(reg.file(t, repo, idx, "linux/amd64", "app-saw")); got != "base-x86_64" {
		t.Errorf("app for amd64 saw %q from its base context", got)
	}
}

// TestFailureMovesNoTag: one failing target, and no tag of any target in
// the run is created or moved; with keep-going, exactly the targets that
// fully succeeded are tagged.
func TestFailureMovesNoTag(t *testing.T) {
	e := envOrSkip(t)
	repo := unique("atomic")
	specFor := func(version, bad string, withNew bool) map[string]string {
		extra := ""
		if withNew {
			extra = fmt.Sprintf(`
target "new" {
  dockerfile_inline = "FROM %[1]s\nRUN echo %[4]s > /v"
  tags = ["%[2]s/%[3]s:new"]
  push = true
}`, e.base, e.registry, repo, version)
		}
		return map[string]string{
			"bakeplan.hcl": fmt.Sprintf(`
target "good" {
  dockerfile_inline = "FROM %[1]s\nRUN echo %[4]s %[3]s > /v"
  tags = ["%[2]s/%[3]s:good"]
  push = true
}
target "bad" {
  dockerfile_inline = "FROM %[1]s\nRUN echo %[4]s && %[5]s"
  tags = ["%[2]s/%[3]s:bad"]
  push = true
}
target "after-bad" {
  dockerfile_inline = "FROM %[1]s\nRUN echo %[4]s > /v"
  depends_on = [target.bad]
  tags = ["%[2]s/%[3]s:after-bad"]
  push = true
}
%[6]s
`, e.base, e.registry, repo, version, bad, extra),
		}
	}
	reg := registry{e.registry}

	p, dir := project(t, specFor("one", "true", false))
	if _, err := apply.Apply(ctx(t), p, e.options(dir)); err != nil {
		t.Fatal(err)
	}
	before := map[string]string{}
	for _, tag := range []string{"good", "bad", "after-bad"} {
		before[tag] = reg.digest(t, repo, tag)
	}

	p, dir = project(t, specFor("two", "exit 3", true))
	_, err := apply.Apply(ctx(t), p, e.options(dir))
	if err == nil || !strings.Contains(err.Error(), "no tag was written") {
		t.Fatalf("apply: %v; want a failure that writes no tag", err)
	}
	for tag, d := range before {
		if after := reg.digest(t, repo, tag); after != d {
			t.Errorf("a failed run moved %s from %s to %s", tag, d, after)
		}
	}
	if reg.exists(t, repo, "new") {
		t.Errorf("a failed run created the tag new")
	}

	p, dir = project(t, specFor("three", "exit 3", true))
	opts := e.options(dir)
	opts.KeepGoing = true
	sum, err := apply.Apply(ctx(t), p, opts)
	if err == nil {
		t.Fatal("keep-going hid the failure")
	}
	if reg.digest(t, repo, "good") == before["good"] || !reg.exists(t, repo, "new") {
		t.Errorf("keep-going did not tag the targets that succeeded")
	}
	for _, tag := range []string{"bad", "after-bad"} {
		if after := reg.digest(t, repo, tag); after != before[tag] {
			t.Errorf("keep-going moved %s, which failed or depends on a failure", tag)
		}
	}
	for _, b := range sum.Builds {
		if b.Target == "after-bad" && !b.Skipped {
			t.Errorf("after-bad ran although its dependency failed")
		}
		if b.Target == "good" && b.Cached {
			t.Errorf("a build with a new RUN step is reported as cached")
		}
	}
}

// TestDockerEndpoint builds through the Docker Engine's embedded BuildKit
// and keeps a multi-platform image in its containerd image store.
func TestDockerEndpoint(t *testing.T) {
	e := envOrSkip(t)
	testenv.Emulates(t)
	name := "bakeplan-e2e/" + unique("docker") + ":1"
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
host {
  docker {
    image_store = "containerd"
  }
  emulators = ["arm64"]
}
builder "default" {
  endpoint = "docker"
}
target "img" {
  dockerfile_inline = "FROM %s\nRUN uname -m > /arch"
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = [%q]
  output    = [{ type = "docker" }]
}
`, e.base, name),
	})
	if _, err := apply.Apply(ctx(t), p, e.options(dir)); err != nil {
		t.Fatal(err)
	}
	got := dockerPlatforms(t, e.docker, "docker.io/"+name)
	if strings.Join(got, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("the Docker image store holds %v", got)
	}
}

// dockerPlatforms lists the platforms the engine's image store holds for an
// image, through the API's manifests view of the containerd store.
func dockerPlatforms(t *testing.T, host, ref string) []string {
	t.Helper()
	sock := strings.TrimPrefix(host, "unix://")
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	filters := url.QueryEscape(fmt.Sprintf(`{"reference":[%q]}`, ref))
	resp, err := hc.Get("http://docker/v1.47/images/json?manifests=1&filters=" + filters)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var imgs []struct {
		Manifests []struct {
			Kind      string
			ImageData *struct{ Platform ocispecs.Platform }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&imgs); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, img := range imgs {
		for _, m := range img.Manifests {
			if m.Kind == "image" && m.ImageData != nil {
				out = append(out, platforms.Format(m.ImageData.Platform))
			}
		}
	}
	return out
}

// TestOCITarball writes both platforms into one OCI tarball.
func TestOCITarball(t *testing.T) {
	e := envOrSkip(t)
	testenv.Emulates(t)
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
host {
  emulators = ["arm64"]
}
target "img" {
  dockerfile_inline = "FROM %s\nRUN uname -m > /arch"
  platforms = ["linux/amd64", "linux/arm64"]
  output    = [{ type = "oci", dest = "out/img.tar" }]
}
`, e.base),
	})
	if _, err := apply.Apply(ctx(t), p, e.options(dir)); err != nil {
		t.Fatal(err)
	}
	files := tarFiles(t, filepath.Join(dir, "out/img.tar"))
	var top ocispecs.Index
	if err := json.Unmarshal(files["index.json"], &top); err != nil || len(top.Manifests) != 1 {
		t.Fatalf("index.json: %v %s", err, files["index.json"])
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(files["blobs/sha256/"+top.Manifests[0].Digest.Encoded()], &idx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(platformsOf(idx), " "); got != "linux/amd64 linux/arm64" {
		t.Errorf("tarball platforms %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/img.tar.bakeplan-partial")); !os.IsNotExist(err) {
		t.Errorf("a partial file was left behind")
	}
}

func tarFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

// TestDryRunChangesNothing prints the solve and changes nothing: no tag, no
// file, no build.
func TestDryRunChangesNothing(t *testing.T) {
	e := envOrSkip(t)
	repo := unique("dryrun")
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
target "img" {
  dockerfile_inline = "FROM %s"
  tags   = ["%s/%s:1"]
  push   = true
  output = [{ type = "oci", dest = "img.tar" }]
}
`, e.base, e.registry, repo),
	})
	var out bytes.Buffer
	if err := dryRun(&out, p, e.options(dir)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"endpoint auto (" + e.buildkit + ")", "push-by-digest=true", "tag      " + e.registry + "/" + repo + ":1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run does not show %q:\n%s", want, out.String())
		}
	}
	if (registry{e.registry}).exists(t, repo, "1") {
		t.Errorf("a dry run pushed a tag")
	}
	if _, err := os.Stat(filepath.Join(dir, "img.tar")); !os.IsNotExist(err) {
		t.Errorf("a dry run wrote the tarball")
	}
}

// TestUnreachableBuilder fails before any solve, naming the endpoint.
func TestUnreachableBuilder(t *testing.T) {
	e := envOrSkip(t)
	repo := unique("unreachable")
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
builder "default" {
}
builder "gone" {
  endpoint  = "unix:///nonexistent/buildkitd.sock"
  platforms = ["linux/arm64"]
}
target "a" {
  dockerfile_inline = "FROM %[1]s"
  tags = ["%[2]s/%[3]s:a"]
  push = true
}
target "b" {
  dockerfile_inline = "FROM %[1]s"
  builder = builder.gone
  platforms = ["linux/arm64"]
}
`, e.base, e.registry, repo),
	})
	_, err := apply.Apply(ctx(t), p, e.options(dir))
	if err == nil || !strings.Contains(err.Error(), "unix:///nonexistent/buildkitd.sock") {
		t.Fatalf("error %v; want one naming the endpoint", err)
	}
	if (registry{e.registry}).exists(t, repo, "a") {
		t.Errorf("target a was built although a builder was unreachable")
	}
}

// TestSecretsAndCache passes a secret through the session (its value is in
// no plan and no request) and exports and re-imports a local build cache.
func TestSecretsAndCache(t *testing.T) {
	e := envOrSkip(t)
	const value = "s3cr3t-from-env"
	t.Setenv("BAKEPLAN_E2E_SECRET", value)
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
target "img" {
  dockerfile_inline = "FROM %s\nRUN --mount=type=secret,id=tok sha256sum /run/secrets/tok | cut -d' ' -f1 > /tok.sum\n"
  secret   = [{ id = "tok", env = "BAKEPLAN_E2E_SECRET" }]
  output   = [{ type = "local", dest = "out" }]
  cache_to = [{ type = "local", dest = "cache", mode = "max" }]
}
`, e.base),
	})
	data, _ := plan.Marshal(p)
	if strings.Contains(string(data), value) {
		t.Fatal("the secret's value is in the plan")
	}
	var dry bytes.Buffer
	if err := dryRun(&dry, p, e.options(dir)); err != nil || strings.Contains(dry.String(), value) {
		t.Fatalf("dry run: %v, or it shows the value", err)
	}
	if _, err := apply.Apply(ctx(t), p, e.options(dir)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "out", "tok.sum"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%x", sha256Sum([]byte(value)))
	if strings.TrimSpace(string(got)) != want {
		t.Errorf("the build saw a secret hashing to %s, want %s", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "cache", "index.json")); err != nil {
		t.Errorf("no cache was exported: %v", err)
	}
}

// TestLoadIntoDockerFromStandaloneBuildKit loads a two-platform image built
// by the standalone buildkitd into the Docker Engine's containerd store.
func TestLoadIntoDockerFromStandaloneBuildKit(t *testing.T) {
	e := envOrSkip(t)
	testenv.Emulates(t)
	name := "bakeplan-e2e/" + unique("load") + ":1"
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
host {
  docker {
    image_store = "containerd"
  }
  emulators = ["arm64"]
}
target "img" {
  dockerfile_inline = "FROM %s\nRUN uname -m > /arch"
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = [%q]
  output    = [{ type = "docker" }]
}
`, e.base, name),
	})
	if _, err := apply.Apply(ctx(t), p, e.options(dir)); err != nil {
		t.Fatal(err)
	}
	if got := dockerPlatforms(t, e.docker, "docker.io/"+name); strings.Join(got, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("the Docker image store holds %v", got)
	}
}

// TestCancelTagsNothing stops a run mid-build, as Ctrl-C does: every solve
// is cancelled and no tag is written.
func TestCancelTagsNothing(t *testing.T) {
	e := envOrSkip(t)
	repo := unique("cancel")
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
target "quick" {
  dockerfile_inline = "FROM %[1]s\nRUN echo %[3]s > /v"
  tags = ["%[2]s/%[3]s:quick"]
  push = true
}
target "slow" {
  dockerfile_inline = "FROM %[1]s\nRUN echo %[3]s && sleep 60"
  tags = ["%[2]s/%[3]s:slow"]
  push = true
}
`, e.base, e.registry, repo),
	})
	c, cancel := context.WithCancel(ctx(t))
	time.AfterFunc(3*time.Second, cancel)
	start := time.Now()
	_, err := apply.Apply(c, p, e.options(dir))
	if err == nil || !strings.Contains(err.Error(), "no tag was written") {
		t.Fatalf("apply: %v; want an interrupted run", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancelling took %s; the solves were not cancelled", d)
	}
	reg := registry{e.registry}
	if reg.exists(t, repo, "quick") || reg.exists(t, repo, "slow") {
		t.Errorf("an interrupted run wrote tags")
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// TestSplitAcrossBuilders builds one target's platforms on two builder
// nodes (both served by the test buildkitd) and publishes one index that
// joins them, as a native arm64 node next to an x86 one would.
func TestSplitAcrossBuilders(t *testing.T) {
	e := envOrSkip(t)
	testenv.Emulates(t)
	repo := unique("split")
	p, dir := project(t, map[string]string{
		"bakeplan.hcl": fmt.Sprintf(`
builder "default" {
  endpoint  = %[1]q
  platforms = ["linux/amd64"]
}
builder "arm" {
  endpoint  = %[1]q
  platforms = ["linux/arm64"]
}
target "app" {
  dockerfile_inline = "FROM %[2]s\nRUN uname -m > /arch"
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["%[3]s/%[4]s:1"]
  push      = true
}
`, e.buildkit, e.base, e.registry, repo),
	})
	if p.Step("build.app@default") == nil || p.Step("build.app@arm") == nil {
		t.Fatalf("the plan does not split the target")
	}
	opts := e.options(dir)
	opts.Parallelism = 1
	if _, err := apply.Apply(ctx(t), p, opts); err != nil {
		t.Fatal(err)
	}
	reg := registry{e.registry}
	idx, _ := reg.index(t, repo, "1")
	if got := strings.Join(platformsOf(idx), " "); got != "linux/amd64 linux/arm64" {
		t.Fatalf("the published index holds %q", got)
	}
	if got := strings.TrimSpace(reg.file(t, repo, idx, "linux/arm64", "arch")); got != "aarch64" {
		t.Errorf("arm64 image says %q", got)
	}
}

func dryRun(w io.Writer, p *plan.Plan, opts apply.Options) error {
	reqs, err := apply.Requests(p, opts)
	if err != nil {
		return err
	}
	return views.DryRun(w, p, reqs, opts.Env)
}

// TestCrossCompiles builds examples/cross for linux/amd64, linux/arm64 and
// linux/riscv64 with no emulator declared and with the arm64 and riscv64
// binfmt_misc entries disabled: the plan needs none, the build succeeds,
// and every platform's file was written by a RUN on the builder's own
// platform.
func TestCrossCompiles(t *testing.T) {
	e := envOrSkip(t)
	// With the arm64 and riscv64 emulators disabled, a build that needed
	// one would fail with "exec format error".
	testenv.WithoutEmulators(t, "qemu-aarch64", "qemu-riscv64")
	for _, arch := range []string{"arm64", "riscv64"} {
		if err := host.Executes(ctx(t), arch); err == nil {
			t.Fatalf("a %s binary still runs with its emulator disabled", arch)
		}
	}
	dir, _ := filepath.Abs("../../examples/cross")
	repo := unique("cross")
	p := compileDir(t, dir, "REGISTRY="+e.registry+"/"+repo, "BASE="+e.base)
	for _, st := range p.Steps {
		if st.Emulator != nil {
			t.Fatalf("the plan needs an emulator: %s", st.ID)
		}
		if st.Build != nil {
			st.Build.NoCache = true // every RUN runs now, with the emulators off
		}
	}
	if _, err := apply.Apply(ctx(t), p, e.options(dir)); err != nil {
		t.Fatal(err)
	}
	reg := registry{e.registry}
	idx, _ := reg.index(t, repo+"/cross", "latest")
	if got := strings.Join(platformsOf(idx), " "); got != "linux/amd64 linux/arm64 linux/riscv64" {
		t.Errorf("index platforms %q", got)
	}
	for _, pl := range []string{"linux/amd64", "linux/arm64", "linux/riscv64"} {
		if got := strings.TrimSpace(reg.file(t, repo+"/cross", idx, pl, "platform")); got != pl+", built on x86_64" {
			t.Errorf("%s: %q", pl, got)
		}
	}
}
