package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
)

// corpus is the compatibility corpus: bake files of our own, modelled on
// the constructs real ones use.
const corpus = "../../testdata/bakecorpus"

// TestBakeCompatibility imports each bake file of the corpus and compares,
// target by target, what `bakeplan plan --offline --json` resolves on the
// imported spec with what `docker buildx bake --print` (the pinned buildx
// from tools/buildx) resolves on the original: context, Dockerfile,
// stage, args, labels, annotations, tags, platforms, contexts, outputs,
// cache, secrets, SSH, attestations and call. Each case's compare file lists the
// target sets, with further -f files after "--".
func TestBakeCompatibility(t *testing.T) {
	buildx := os.Getenv("BAKEPLAN_TEST_BUILDX")
	if buildx == "" {
		testenv.Missing(t, "docker buildx, built from tools/buildx (BAKEPLAN_TEST_BUILDX)")
	}
	// BAKEPLAN_BAKE_CORPUS names another corpus, such as real projects
	// checked out elsewhere, each with a compare file.
	root := corpus
	if dir := os.Getenv("BAKEPLAN_BAKE_CORPUS"); dir != "" {
		root = dir
	}
	cases, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.Name())
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, c.Name()))); err != nil {
				t.Fatal(err)
			}
			os.Remove(filepath.Join(dir, "bakeplan.hcl"))
			bakeFiles := []string{bakeFileIn(t, dir)}
			for _, o := range bakeOverrides {
				if _, err := os.Stat(filepath.Join(dir, o)); err == nil {
					bakeFiles = append(bakeFiles, o)
				}
			}
			spec := filepath.Join(dir, "bakeplan.hcl")
			importArgs := []string{"import", "--force", "-o", spec, "--native-platform", nativePlatform()}
			var abs []string
			for _, f := range bakeFiles {
				abs = append(abs, filepath.Join(dir, f))
				importArgs = append(importArgs, "-f", abs[len(abs)-1])
			}
			specs := specNames(spec, abs)
			for _, line := range compareLines(t, filepath.Join(dir, "compare")) {
				targets, extra, _ := strings.Cut(line, "--")
				names := strings.Fields(targets)
				var environ []string
				for len(names) > 0 && strings.Contains(names[0], "=") {
					environ, names = append(environ, names[0]), names[1:]
				}
				// Imported in the environment it is planned in, as a
				// compose file's ${VAR} is read when importing.
				if _, stderr, code := runWith(t, environ, importArgs...); code != 0 {
					t.Fatalf("import: exit %d\n%s", code, stderr)
				}
				want := bakePrint(t, buildx, dir, bakeFiles, strings.Fields(extra), names, environ)
				got := bakeplanPlan(t, dir, specs, strings.Fields(extra), names, environ)
				// Every target bake printed (a group's too), but those it
				// built only to feed another as a context, which bake
				// prints with a cacheonly output.
				linked := map[string]bool{}
				for _, w := range want {
					for _, v := range w.Contexts {
						if t, ok := strings.CutPrefix(v, "target:"); ok && !slices.Contains(names, t) {
							linked[t] = true
						}
					}
				}
				for _, n := range sortedKeys(want) {
					if linked[n] {
						continue
					}
					w, g := want[n], got[n]
					if g == nil {
						t.Errorf("%s: bakeplan planned no build of it", n)
						continue
					}
					if diff := compareTargets(w, g); diff != "" {
						t.Errorf("%s differs from bake --print (%s):\n%s", n, line, diff)
					}
				}
			}
		})
	}
}

func compareLines(t *testing.T, file string) []string {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func nativePlatform() string { return platforms.Format(platforms.Normalize(platforms.DefaultSpec())) }

// resolvedTarget is what both tools resolve for a target, in one form.
type resolvedTarget struct {
	Context, Dockerfile, Stage string
	Call                       string
	Args, Labels, Contexts     map[string]string
	Annotations, Tags          []string
	Platforms, Outputs         []string
	CacheFrom, CacheTo         []string
	Secrets, SSH, Attest       []string
}

func bakePrint(t *testing.T, buildx, dir string, bakeFiles, extra, names, environ []string) map[string]*resolvedTarget {
	t.Helper()
	res, stderr, err := bakePrintResult(t, buildx, dir, bakeFiles, extra, names, environ)
	if err != nil {
		t.Fatalf("buildx bake --print: %v\n%s", err, stderr)
	}
	return res
}

// bakePrintResult runs bake --print and returns what it resolved, or its
// error and what it printed.
func bakePrintResult(t *testing.T, buildx, dir string, bakeFiles, extra, names, environ []string) (map[string]*resolvedTarget, string, error) {
	t.Helper()
	args := []string{"bake", "--print"}
	for _, f := range bakeFiles {
		args = append(args, "-f", f)
	}
	for _, f := range extra {
		args = append(args, "-f", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildx, append(args, names...)...)
	cmd.Dir = dir
	// No builder or Docker is needed to print; keep the user's config out.
	// bake --print looks for the SSH agent's socket an ssh entry names.
	agent := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", agent)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DOCKER_CONFIG=" + filepath.Join(dir, ".docker"),
		"BUILDX_CONFIG=" + filepath.Join(dir, ".buildx"), "SSH_AUTH_SOCK=" + agent}, environ...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return nil, stderr, err
	}
	var printed struct {
		Target map[string]map[string]any `json:"target"`
	}
	if err := json.Unmarshal(out, &printed); err != nil {
		t.Fatalf("bake --print: %v", err)
	}
	res := map[string]*resolvedTarget{}
	for name, tg := range printed.Target {
		res[name] = fromBake(t, tg)
	}
	return res, "", nil
}

func fromBake(t *testing.T, tg map[string]any) *resolvedTarget {
	str := func(k string) string { s, _ := tg[k].(string); return s }
	strMap := func(k string) map[string]string {
		out := map[string]string{}
		m, _ := tg[k].(map[string]any)
		for mk, v := range m {
			if s, ok := v.(string); ok { // bake drops null values
				out[mk] = s
			}
		}
		return out
	}
	strList := func(k string) []string {
		var out []string
		l, _ := tg[k].([]any)
		for _, v := range l {
			out = append(out, fmt.Sprint(v))
		}
		return out
	}
	objList := func(k string) []map[string]string {
		var out []map[string]string
		l, _ := tg[k].([]any)
		for _, v := range l {
			m := map[string]string{}
			for mk, mv := range v.(map[string]any) {
				m[mk] = fmt.Sprint(mv)
			}
			out = append(out, m)
		}
		return out
	}
	r := &resolvedTarget{
		// bake's Dockerfile is relative to the context; the plan's to
		// the spec: both name the same file.
		Context: path.Clean(str("context")), Dockerfile: path.Join(str("context"), str("dockerfile")), Stage: str("target"),
		Args: strMap("args"), Labels: strMap("labels"), Contexts: map[string]string{},
		Annotations: sorted(strList("annotations")),
		Call:        strings.TrimPrefix(str("call"), "build"),
	}
	for _, tag := range strList("tags") {
		r.Tags = append(r.Tags, normalTag(t, tag))
	}
	r.Platforms = normalPlatforms(t, strList("platforms"))
	for k, v := range strMap("contexts") {
		if !strings.Contains(v, "://") && !strings.HasPrefix(v, "target:") {
			v = path.Clean(v)
		}
		r.Contexts[k] = v
	}
	for _, o := range objList("output") {
		if n := o["name"]; n != "" && (o["type"] == "image" || o["type"] == "docker" || o["type"] == "registry") {
			// bakeplan's image names are tags.
			for _, name := range strings.Split(n, ",") {
				r.Tags = append(r.Tags, normalTag(t, name))
			}
			delete(o, "name")
		}
		switch {
		case o["type"] == "registry" || o["type"] == "image" && (o["push"] == "true" || o["push"] == "1"):
			r.Outputs = append(r.Outputs, "push")
			delete(o, "type")
			delete(o, "push")
			if len(o) > 0 {
				o["type"] = "registry"
				r.Outputs = append(r.Outputs, attrs(o))
			}
		case o["type"] == "image":
			// Imported as type=docker: bake's docker driver loads it there.
			o["type"] = "docker"
			r.Outputs = append(r.Outputs, attrs(o))
		default:
			if o["dest"] != "" {
				o["dest"] = path.Clean(o["dest"])
			}
			r.Outputs = append(r.Outputs, attrs(o))
		}
	}
	sort.Strings(r.Outputs)
	r.Tags = slices.Compact(sorted(r.Tags))
	r.CacheFrom, r.CacheTo = attrList(objList("cache-from")), attrList(objList("cache-to"))
	for _, s := range objList("secret") {
		if s["src"] != "" {
			s["file"] = s["src"]
			delete(s, "src")
		}
		r.Secrets = append(r.Secrets, attrs(s))
	}
	sort.Strings(r.Secrets)
	for _, s := range objList("ssh") {
		r.SSH = append(r.SSH, attrs(s))
	}
	sort.Strings(r.SSH)
	r.Attest = attrList(objList("attest"))
	return r
}

func bakeplanPlan(t *testing.T, dir string, specs, extra, names, environ []string) map[string]*resolvedTarget {
	t.Helper()
	specs = slices.Clone(specs)
	for _, f := range extra {
		specs = append(specs, filepath.Join(dir, f))
	}
	got, stderr, code := planBuilds(t, specs, environ, nativePlatform(), names)
	if code != 0 {
		t.Fatalf("bakeplan plan %v %v: exit %d\n%s", specs, names, code, stderr)
	}
	return got
}

// planBuilds plans spec files, in order, with variables from the
// environment by their bare names (as bake reads them), and returns each
// build as the comparison reads it; a failure returns what was printed.
func planBuilds(t *testing.T, specs, environ []string, native string, targets []string) (map[string]*resolvedTarget, string, int) {
	t.Helper()
	args := []string{"plan", "--offline", "--json", "--env-vars", "bake", "--native-platform", native}
	for _, s := range specs {
		args = append(args, "-f", s)
	}
	args = append(args, targets...)
	var out, errb strings.Builder
	code := run(context.Background(), args, streams{in: strings.NewReader(""), out: &out, err: &errb}, environ)
	if code != 0 {
		return nil, out.String() + errb.String(), code
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out.String()), &p); err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	res := map[string]*resolvedTarget{}
	for _, st := range p.Steps {
		if st.Build != nil {
			res[st.Build.Target] = fromPlan(t, st.Build)
		}
	}
	return res, errb.String(), 0
}

func fromPlan(t *testing.T, b *plan.Build) *resolvedTarget {
	r := &resolvedTarget{
		Context: path.Clean(b.Context), Dockerfile: path.Clean(b.Dockerfile), Stage: b.Stage,
		Args: orEmpty(b.Args), Labels: orEmpty(b.Labels), Contexts: map[string]string{},
		Tags: sorted(slices.Clone(b.Tags)),
		Call: b.Call,
	}
	for k, v := range b.Annotations {
		r.Annotations = append(r.Annotations, k+"="+v)
	}
	sort.Strings(r.Annotations)
	var ps []string
	for _, p := range b.Platforms {
		ps = append(ps, p.Platform)
	}
	r.Platforms = normalPlatforms(t, ps)
	for _, c := range b.Contexts {
		switch {
		case c.Target != "":
			r.Contexts[c.Name] = "target:" + c.Target
		case c.Image != "":
			r.Contexts[c.Name] = "docker-image://" + c.Image
		case c.URL != "":
			r.Contexts[c.Name] = c.URL
		default:
			r.Contexts[c.Name] = path.Clean(c.Path)
		}
	}
	if b.Push {
		r.Outputs = append(r.Outputs, "push")
	}
	for _, o := range b.Outputs {
		if o.Type == "registry" && len(o.Attrs) == 0 {
			continue // the push, above
		}
		m := map[string]string{"type": o.Type}
		if o.Dest != "" {
			m["dest"] = path.Clean(o.Dest)
		}
		for k, v := range o.Attrs {
			m[k] = v
		}
		r.Outputs = append(r.Outputs, attrs(m))
	}
	sort.Strings(r.Outputs)
	r.CacheFrom, r.CacheTo = attrList(b.CacheFrom), attrList(b.CacheTo)
	for _, s := range b.Secrets {
		m := map[string]string{"id": s.ID}
		if s.Env != "" {
			m["env"] = s.Env
		}
		if s.File != "" {
			m["file"] = s.File
		}
		r.Secrets = append(r.Secrets, attrs(m))
	}
	sort.Strings(r.Secrets)
	for _, s := range b.SSH {
		m := map[string]string{"id": s.ID}
		if len(s.Paths) > 0 {
			m["paths"] = "[" + strings.Join(s.Paths, " ") + "]"
		}
		r.SSH = append(r.SSH, attrs(m))
	}
	sort.Strings(r.SSH)
	r.Attest = attrList(b.Attest)
	return r
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func sorted(s []string) []string { sort.Strings(s); return s }

// attrs is an attribute map as sorted key=value pairs.
func attrs(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func attrList(l []map[string]string) []string {
	var out []string
	for _, m := range l {
		out = append(out, attrs(m))
	}
	return sorted(out)
}

func normalTag(t *testing.T, tag string) string {
	n, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		t.Fatalf("bake printed tag %q: %v", tag, err)
	}
	return reference.TagNameOnly(n).String()
}

func normalPlatforms(t *testing.T, in []string) []string {
	var out []string
	for _, p := range in {
		if p == "local" {
			p = nativePlatform()
		}
		pp, err := platforms.Parse(p)
		if err != nil {
			t.Fatalf("platform %q: %v", p, err)
		}
		out = append(out, platforms.Format(platforms.Normalize(pp)))
	}
	if len(out) == 0 {
		out = []string{nativePlatform()} // both build the native one by default
	}
	return sorted(out)
}

// compareTargets lists the fields that differ, one per line.
func compareTargets(want, got *resolvedTarget) string {
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	if string(w) == string(g) {
		return ""
	}
	var wm, gm map[string]any
	_ = json.Unmarshal(w, &wm)
	_ = json.Unmarshal(g, &gm)
	var b strings.Builder
	keys := make([]string, 0, len(wm))
	for k := range wm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ws, _ := json.Marshal(wm[k])
		gs, _ := json.Marshal(gm[k])
		if string(ws) != string(gs) {
			fmt.Fprintf(&b, "  %s: bake %s, bakeplan %s\n", k, ws, gs)
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}

// bakeFileIn is the bake file of a corpus case: the first of bake's
// default names it has.
func bakeFileIn(t *testing.T, dir string) string {
	for _, name := range append([]string{"docker-bake.hcl"}, bakeDefaults...) {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return name
		}
	}
	t.Fatalf("no bake file in %s", dir)
	return ""
}
