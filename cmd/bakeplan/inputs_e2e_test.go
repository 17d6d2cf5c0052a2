package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/plan"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// diffProject is a pushed build whose inputs a test changes one at a time:
// a context with an ignore file and a re-included directory, a named local
// context, a target context, a base image, a COPY --from image and a
// docker-image:// context (each a tag the test moves), args from plain and
// sensitive variables, and a RUN. Its builds are reproducible (a fixed
// SOURCE_DATE_EPOCH and rewritten timestamps), so two builds of the same
// inputs give the same image and a rebuild tells whether a change changed
// the image.
type diffProject struct {
	t    *testing.T
	env  testenv.Env
	dir  string
	repo string
}

// diffSpec is what a case may change in the spec.
type diffSpec struct {
	msg       string // the MSG variable's default, passed as an arg
	token     string // the sensitive TOKEN variable's value
	unused    string // an arg no ARG declares
	platforms string
	stage     string
	network   string
	noCache   bool
	cacheTo   string
	tags      []string
	label     string
	builder   string // the endpoint, when not the default builder's
	attest    bool   // provenance, which makes BuildKit wrap one platform in an index
}

func (dp *diffProject) write(name, body string) { dp.t.Helper(); writeFile(dp.t, dp.dir, name, body) }

// baseline writes the project's files as every case starts from them.
func (dp *diffProject) baseline() {
	dp.t.Helper()
	for _, d := range []string{"ctx", "extra", "dep"} {
		if err := os.RemoveAll(filepath.Join(dp.dir, d)); err != nil {
			dp.t.Fatal(err)
		}
	}
	dp.write("ctx/Dockerfile", fmt.Sprintf(`FROM %[1]s/base:1 AS base
FROM %[1]s/base:1 AS other
RUN echo other > /other
FROM base AS final
ARG MSG
ARG TOKEN
COPY --from=%[1]s/tool:1 /marker /tool-marker
COPY --from=ctximg /marker /ctx-marker
COPY --from=extra / /extra/
COPY --from=dep /d.txt /dep.txt
COPY . /src/
RUN echo "$MSG" > /msg && echo "$TOKEN" | md5sum > /token
LABEL msg=$MSG
`, dp.repo))
	dp.write("ctx/.dockerignore", "ignored.txt\nd1\n!d1/keep\n")
	dp.write("ctx/a.txt", "a\n")
	dp.write("ctx/ignored.txt", "ignored\n")
	dp.write("ctx/d1/keep", "keep\n")
	dp.write("ctx/d1/drop", "drop\n")
	dp.write("extra/e.txt", "e\n")
	dp.write("dep/d.txt", "d\n")
	dp.write("outside.dockerignore", "ignored.txt\nd1\n!d1/keep\n")
}

func (dp *diffProject) spec(s diffSpec) string {
	dp.t.Helper()
	var b strings.Builder
	endpoint := dp.env.Buildkit
	if s.builder != "" {
		endpoint = s.builder
	}
	fmt.Fprintf(&b, "builder \"default\" {\n  endpoint = %q\n}\nregistry \"local\" {\n  host     = %q\n  insecure = true\n}\n", endpoint, dp.env.Registry)
	b.WriteString("host {\n  emulators = [\"arm64\"]\n}\n")
	fmt.Fprintf(&b, "variable \"MSG\" {\n  default = %q\n}\nvariable \"TOKEN\" {\n  default   = %q\n  sensitive = true\n}\n", s.msg, s.token)
	b.WriteString("target \"dep\" {\n  context = \"dep\"\n  dockerfile_inline = \"FROM scratch\\nCOPY d.txt /d.txt\"\n  platforms = [" + s.platforms + "]\n}\n")
	fmt.Fprintf(&b, `target "app" {
  context   = "ctx"
  contexts  = { extra = "extra", dep = target.dep, ctximg = "docker-image://%s/ctximg:1" }
  args      = { MSG = var.MSG, TOKEN = var.TOKEN, SOURCE_DATE_EPOCH = "1700000000"%s }
  platforms = [%s]
  tags      = %s
  push      = true
  output    = [{ type = "registry", "rewrite-timestamp" = "true" }]
`, dp.repo, optArg("UNUSED", s.unused), s.platforms, hclList(s.tags))
	if s.stage != "" {
		fmt.Fprintf(&b, "  target = %q\n", s.stage)
	}
	if s.network != "" {
		fmt.Fprintf(&b, "  network = %q\n", s.network)
	}
	if s.noCache {
		b.WriteString("  no_cache = true\n")
	}
	if s.cacheTo != "" {
		fmt.Fprintf(&b, "  cache_to = [{ type = \"local\", dest = %q }]\n", s.cacheTo)
	}
	if s.label != "" {
		fmt.Fprintf(&b, "  labels = { note = %q }\n", s.label)
	}
	if s.attest {
		b.WriteString("  attest = [{ type = \"provenance\", mode = \"min\" }]\n")
	}
	b.WriteString("}\n")
	return writeFile(dp.t, dp.dir, "bakeplan.hcl", b.String())
}

func optArg(k, v string) string {
	if v == "" {
		return ""
	}
	return fmt.Sprintf(", %s = %q", k, v)
}

func hclList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// pushHelpers pushes, for each image the build pulls, a v1 and a v2 image
// under their own tags; point moves the tag the build names to one.
func (dp *diffProject) pushHelpers() {
	dp.t.Helper()
	var b strings.Builder
	b.WriteString(testBlocks(dp.env))
	for _, name := range []string{"base", "tool", "ctximg"} {
		for _, v := range []string{"v1", "v2"} {
			from := "scratch"
			if name == "base" {
				from = dp.env.Base
			}
			dp.write(fmt.Sprintf("helpers/%s-%s/marker", name, v), name+" "+v+"\n")
			fmt.Fprintf(&b, "target %q {\n  context = \"helpers/%s-%s\"\n  dockerfile_inline = \"FROM %s\\nCOPY marker /marker\"\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n  tags = [\"%s/%s:%s\"]\n  push = true\n}\n",
				name+"-"+v, name, v, from, dp.repo, name, v)
		}
	}
	spec := writeFile(dp.t, dp.dir, "helpers.hcl", b.String())
	if _, errOut, code := bakeplan(dp.t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec); code != 0 {
		dp.t.Fatalf("pushing the helper images: exit %d\n%s", code, errOut)
	}
}

// point moves repo/name:1 to the image pushed as name:version, as another
// pipeline pushing the tag would.
func (dp *diffProject) point(name, version string) {
	dp.t.Helper()
	body, mediaType := dp.manifest(name, version)
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/v2/%s/%s/manifests/1", dp.env.Registry, strings.TrimPrefix(dp.repo, dp.env.Registry+"/"), name), strings.NewReader(string(body)))
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		dp.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		dp.t.Fatalf("moving %s:1 to %s: %s", name, version, resp.Status)
	}
}

// manifest reads repo/name:ref's manifest (an index or an image manifest).
func (dp *diffProject) manifest(name, ref string) ([]byte, string) {
	dp.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/%s/manifests/%s", dp.env.Registry, strings.TrimPrefix(dp.repo, dp.env.Registry+"/"), name, ref), nil)
	req.Header.Set("Accept", strings.Join([]string{ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageManifest}, ", "))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		dp.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		dp.t.Fatalf("GET %s:%s: %s", name, ref, resp.Status)
	}
	return b, resp.Header.Get("Content-Type")
}

// image is what an image is, apart from the input record bakeplan
// annotates it with: per platform, its configuration, its layers and its
// other annotations.
func (dp *diffProject) image(name, ref string) string {
	dp.t.Helper()
	body, mediaType := dp.manifest(name, ref)
	var out []string
	one := func(platform string, body []byte) {
		var m ocispec.Manifest
		if err := json.Unmarshal(body, &m); err != nil {
			dp.t.Fatal(err)
		}
		line := platform + " config " + m.Config.Digest.String()
		for _, l := range m.Layers {
			line += " " + l.Digest.String()
		}
		for _, k := range sortedKeys(m.Annotations) {
			if !strings.HasPrefix(k, "org.bakeplan.") {
				line += " " + k + "=" + m.Annotations[k]
			}
		}
		out = append(out, line)
	}
	if mediaType != ocispec.MediaTypeImageIndex {
		one("", body)
		return strings.Join(out, "\n")
	}
	var idx ocispec.Index
	if err := json.Unmarshal(body, &idx); err != nil {
		dp.t.Fatal(err)
	}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" {
			continue
		}
		b, _ := dp.manifest(name, d.Digest.String())
		one(d.Platform.OS+"/"+d.Platform.Architecture, b)
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// state is what an online plan says of build.app: up-to-date, retag or
// build, and why.
func (dp *diffProject) state(spec string) (string, []string) {
	dp.t.Helper()
	st := dp.status(spec, "build.app")
	return string(st.State), st.Reasons
}

// status is what an online plan says of one build.
func (dp *diffProject) status(spec, step string) *plan.BuildStatus {
	dp.t.Helper()
	out, errOut, code := bakeplan(dp.t, "plan", "--json", "-f", spec, "app")
	if code != 0 {
		dp.t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	p, err := plan.Unmarshal([]byte(out))
	if err != nil {
		dp.t.Fatalf("plan --json: %v", err)
	}
	st := p.Step(step)
	if st == nil || st.Build.Status == nil {
		dp.t.Fatalf("plan has no status for %s:\n%s", step, out)
	}
	return st.Build.Status
}

// applied applies spec and says, per build step, whether it was solved.
func (dp *diffProject) applied(spec string) map[string]bool {
	dp.t.Helper()
	meta := filepath.Join(dp.dir, "meta.json")
	if _, errOut, code := bakeplan(dp.t, "apply", "--auto-approve", "--progress", "quiet", "--metadata-file", meta, "-f", spec, "app"); code != 0 {
		dp.t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	data, err := os.ReadFile(meta)
	if err != nil {
		dp.t.Fatal(err)
	}
	var sum struct {
		Builds []struct {
			Step     string `json:"step"`
			UpToDate bool   `json:"up_to_date"`
		} `json:"builds"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		dp.t.Fatal(err)
	}
	solved := map[string]bool{}
	for _, b := range sum.Builds {
		solved[b.Step] = !b.UpToDate
	}
	return solved
}

// TestUpToDateAgreesWithRebuild applies one change at a time to a pushed
// build and asks BuildKit what the change does: a forced rebuild (pushed
// under another tag) gives the same image or not. The plan's state must
// agree: a false "up to date" (or re-tag) fails the test; a build whose
// rebuild gives the same image is a needless rebuild, counted and logged
// (documented in docs/plan-format.md).
func TestUpToDateAgreesWithRebuild(t *testing.T) {
	env := testenv.Get(t)
	// "platform added" runs a RUN under arm64 emulation: no other test may
	// change binfmt_misc meanwhile.
	testenv.Emulates(t)
	run := fmt.Sprint(time.Now().UnixNano())
	dp := &diffProject{t: t, env: env, dir: t.TempDir(), repo: fmt.Sprintf("%s/e2e-agree-%s", env.Registry, run)}
	dp.pushHelpers()
	restoreImages := func() {
		for _, n := range []string{"base", "tool", "ctximg"} {
			dp.point(n, "v1")
		}
	}
	restoreImages()
	base := diffSpec{msg: "hello", token: "t1", platforms: `"linux/amd64"`, tags: []string{dp.repo + "/app:1"}}
	dp.baseline()
	spec := dp.spec(base)
	if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec, "app"); code != 0 {
		t.Fatalf("baseline apply: exit %d\n%s", code, errOut)
	}
	want := dp.image("app", "1")
	// dep only feeds app: with app up to date nothing reads it, so it is
	// not solved either.
	if st := dp.status(spec, "build.dep"); st.State != "up-to-date" {
		t.Errorf("build.dep, which only feeds an up-to-date build, is %s: %v", st.State, st.Reasons)
	}
	if solved := dp.applied(spec); solved["build.app"] || solved["build.dep"] {
		t.Errorf("a re-run of the baseline solved %v", solved)
	}

	chmod := func(name string, mode os.FileMode) {
		t.Helper()
		if err := os.Chmod(filepath.Join(dp.dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		files   func()            // changes files or the registry
		spec    func(s *diffSpec) // changes the spec
		mustRun bool              // the build must run though the image stays (no_cache, cache_to)
		// settle: after the case, apply it and plan again, which must be
		// up to date (then the baseline is applied back).
		settle bool
	}{
		{name: "context file edited", files: func() { dp.write("ctx/a.txt", "a2\n") }},
		{name: "ignored file edited", files: func() { dp.write("ctx/ignored.txt", "ignored2\n") }},
		{name: "file under an ignored directory edited", files: func() { dp.write("ctx/d1/drop", "drop2\n") }},
		{name: "re-included file edited", files: func() { dp.write("ctx/d1/keep", "keep2\n") }},
		{name: "file added", files: func() { dp.write("ctx/b.txt", "b\n") }},
		{name: "file renamed", files: func() {
			if err := os.Rename(filepath.Join(dp.dir, "ctx/a.txt"), filepath.Join(dp.dir, "ctx/c.txt")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "file touched", files: func() {
			future := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(dp.dir, "ctx/a.txt"), future, future); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "mode 0600", files: func() { chmod("ctx/a.txt", 0o600) }},
		{name: "mode 0640", files: func() { chmod("ctx/a.txt", 0o640) }},
		{name: "executable bit", files: func() { chmod("ctx/a.txt", 0o755) }},
		{name: "setgid directory", files: func() { chmod("ctx/d1", 0o755|os.ModeSetgid) }},
		{name: "empty directory added", files: func() {
			if err := os.Mkdir(filepath.Join(dp.dir, "ctx/empty"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "symlink added", files: func() {
			if err := os.Symlink("a.txt", filepath.Join(dp.dir, "ctx/link")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "fifo added", files: func() {
			if err := syscall.Mkfifo(filepath.Join(dp.dir, "ctx/pipe"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "ignore file a link out of the context", files: func() {
			os.Remove(filepath.Join(dp.dir, "ctx/.dockerignore"))
			if err := os.Symlink("../outside.dockerignore", filepath.Join(dp.dir, "ctx/.dockerignore")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "ignore rules re-excluding", files: func() { dp.write("ctx/.dockerignore", "ignored.txt\nd1\n!d1/keep\nd1\n") }},
		{name: "ignore rule for the Dockerfile", files: func() { dp.write("ctx/.dockerignore", "ignored.txt\nd1\n!d1/keep\nDockerfile\n") }},
		{name: "Dockerfile comment", files: func() {
			b, _ := os.ReadFile(filepath.Join(dp.dir, "ctx/Dockerfile"))
			dp.write("ctx/Dockerfile", "# a comment\n"+string(b))
		}},
		{name: "base image moved", files: func() { dp.point("base", "v2") }},
		{name: "COPY --from image moved", files: func() { dp.point("tool", "v2") }},
		{name: "docker-image context moved", files: func() { dp.point("ctximg", "v2") }},
		{name: "named local context edited", files: func() { dp.write("extra/e.txt", "e2\n") }},
		{name: "target context input edited", files: func() { dp.write("dep/d.txt", "d2\n") }},
		{name: "arg from a variable default", spec: func(s *diffSpec) { s.msg = "bye" }},
		{name: "sensitive variable", spec: func(s *diffSpec) { s.token = "t2" }},
		{name: "arg no ARG declares", spec: func(s *diffSpec) { s.unused = "x" }},
		{name: "stage", spec: func(s *diffSpec) { s.stage = "other" }},
		{name: "platform added", spec: func(s *diffSpec) { s.platforms = `"linux/amd64", "linux/arm64"` }},
		{name: "label", spec: func(s *diffSpec) { s.label = "n" }},
		{name: "network none", spec: func(s *diffSpec) { s.network = "none" }},
		{name: "tag added in the same repository", spec: func(s *diffSpec) { s.tags = append(slices.Clone(s.tags), dp.repo+"/app:extra") }, settle: true},
		{name: "tag added in another repository", spec: func(s *diffSpec) { s.tags = append(slices.Clone(s.tags), dp.repo+"/mirror:1") }, settle: true},
		{name: "builder", spec: func(s *diffSpec) { s.builder = env.TLSBuildkit }, settle: true},
		{name: "attestation on one platform", spec: func(s *diffSpec) { s.attest = true }, settle: true},
		{name: "no_cache", spec: func(s *diffSpec) { s.noCache = true }, mustRun: true},
		{name: "cache_to", spec: func(s *diffSpec) { s.cacheTo = filepath.Join(dp.dir, "cache") }, mustRun: true},
	}
	var needless []string
	for i, c := range cases {
		dp.baseline()
		restoreImages()
		s := base
		spec := dp.spec(s)
		if st, why := dp.state(spec); st != "up-to-date" {
			t.Fatalf("before %q: the baseline is %s, not up to date: %v", c.name, st, why)
		}
		if c.files != nil {
			c.files()
		}
		if c.spec != nil {
			c.spec(&s)
			spec = dp.spec(s)
		}
		st, why := dp.state(spec)
		probe := fmt.Sprintf("%s/app:probe-%d", dp.repo, i)
		if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "--rebuild", "--set", "app.tags="+probe, "-f", spec, "app"); code != 0 {
			t.Fatalf("%s: forced rebuild: exit %d\n%s", c.name, code, errOut)
		}
		changed := dp.image("app", fmt.Sprintf("probe-%d", i)) != want
		switch {
		case changed && st != "build":
			t.Errorf("%s: the plan says %s, but a rebuild gives another image", c.name, st)
		case c.mustRun && st != "build":
			t.Errorf("%s: the plan says %s; the build must run", c.name, st)
		case !changed && st == "build" && !c.mustRun:
			needless = append(needless, fmt.Sprintf("%s (%s)", c.name, strings.Join(why, "; ")))
		}
		t.Logf("%-40s plan %-10s image changed: %t", c.name, st, changed)
		if c.settle {
			solved := dp.applied(spec)
			if solved["build.app"] != (st == "build") {
				t.Errorf("%s: the plan said %s, and apply solved build.app: %t", c.name, st, solved["build.app"])
			}
			if again, why := dp.state(spec); again != "up-to-date" {
				t.Errorf("%s: after apply, the plan says %s: %v", c.name, again, why)
			}
			dp.baseline()
			restoreImages()
			dp.applied(dp.spec(base))
		}
	}
	t.Logf("needless rebuilds: %d of %d cases", len(needless), len(cases))
	for _, n := range needless {
		t.Logf("  needless: %s", n)
	}
}
