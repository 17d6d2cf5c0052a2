package diff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/diff/render"
	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// side is a spec, the files around it and its variables.
type side struct {
	src   string
	files map[string]string
	vars  []string
	lock  string // the lock file, when the side has one
}

func (s side) compile(t *testing.T) (*plan.Plan, fstest.MapFS) {
	t.Helper()
	fsys := fstest.MapFS{}
	files := s.files
	if files == nil {
		files = map[string]string{"Dockerfile": "FROM scratch\nRUN true\n"}
	}
	for n, b := range files {
		fsys["p/"+n] = &fstest.MapFile{Data: []byte(b)}
	}
	sp, diags := spec.Parse(hclparse.NewParser(), "bakeplan.hcl", []byte(s.src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var lock *lockfile.Lock
	var lockRef *plan.LockFile
	if s.lock != "" {
		if lock, diags = lockfile.Parse(lockfile.Name, []byte(s.lock)); diags.HasErrors() {
			t.Fatal(diags)
		}
		lockRef = &plan.LockFile{File: lockfile.Name, Digest: inputs.Bytes([]byte(s.lock))}
	}
	p, diags := compiler.Compile(context.Background(), sp, compiler.Options{
		FS: fsys, SpecDir: "p", SpecFile: "bakeplan.hcl", Vars: s.vars,
		NativePlatform: platforms.MustParse("linux/amd64"), Lock: lock, LockFile: lockRef,
	})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p, fsys
}

const baseSpec = `
variable "TOKEN" {
  default   = "one"
  sensitive = true
}
host {
  emulators = ["arm64"]
}
target "base" {
  context   = "base"
  platforms = ["linux/amd64", "linux/arm64"]
}
target "app" {
  contexts  = { base = target.base }
  platforms = ["linux/amd64", "linux/arm64"]
  args      = { VERSION = "1", TOKEN = var.TOKEN }
  tags      = ["r.example.com/app:1"]
  push      = true
}
target "worker" {
  tags = ["r.example.com/worker:1"]
}
`

// pinOf is a lock file that pins the image "base" to dgst.
func pinOf(dgst string) string {
	return "image \"docker.io/library/base:latest\" {\n  digest = \"" + dgst + "\"\n}\n"
}

var (
	pin1 = pinOf("sha256:" + strings.Repeat("1", 64))
	pin2 = pinOf("sha256:" + strings.Repeat("2", 64))
)

var baseFiles = map[string]string{
	"Dockerfile":      "FROM base\nCOPY . /app\nRUN true\n",
	"main.go":         "package main\n",
	"base/Dockerfile": "FROM scratch\nRUN true\n",
}

func with(files map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestCatalogue pins the diff of each kind of change a reviewer meets.
func TestCatalogue(t *testing.T) {
	base := side{src: baseSpec, files: baseFiles, lock: pin1}
	tests := []struct {
		name string
		head side
	}{
		{"nothing-changed", base},
		{"platform-added", side{src: strings.Replace(baseSpec, "target \"worker\" {\n", "target \"worker\" {\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n", 1), files: baseFiles, lock: pin1}},
		{"platform-removed", side{src: strings.Replace(strings.Replace(baseSpec, `platforms = ["linux/amd64", "linux/arm64"]
  args`, `platforms = ["linux/amd64"]
  args`, 1), `platforms = ["linux/amd64", "linux/arm64"]
}`, `platforms = ["linux/amd64"]
}`, 1), files: baseFiles, lock: pin1}},
		{"tag-changed", side{src: strings.Replace(baseSpec, "r.example.com/app:1", "r.example.com/app:2", 1), files: baseFiles, lock: pin1}},
		{"argument-changed", side{src: strings.Replace(baseSpec, `VERSION = "1"`, `VERSION = "2"`, 1), files: baseFiles, lock: pin1}},
		{"sensitive-variable-changed", side{src: baseSpec, files: baseFiles, vars: []string{"TOKEN=two"}, lock: pin1}},
		{"target-added", side{src: baseSpec + "target \"cron\" {\n  tags = [\"r.example.com/cron:1\"]\n}\n", files: baseFiles, lock: pin1}},
		{"target-removed", side{src: strings.Replace(baseSpec, "target \"worker\" {\n  tags = [\"r.example.com/worker:1\"]\n}\n", "", 1), files: baseFiles, lock: pin1}},
		{"target-renamed", side{src: strings.Replace(baseSpec, `target "worker" {`, `target "jobs" {`, 1), files: baseFiles, lock: pin1}},
		{"dependency-added", side{src: strings.Replace(baseSpec, "target \"worker\" {\n", "target \"worker\" {\n  depends_on = [target.app]\n", 1), files: baseFiles, lock: pin1}},
		{"dockerfile-edited", side{src: baseSpec, files: with(baseFiles, "base/Dockerfile", "FROM scratch\nLABEL edited=yes\n"), lock: pin1}},
		{"context-files-changed", side{src: baseSpec, files: with(baseFiles, "main.go", "package main // edited\n", "util.go", "package main\n"), lock: pin1}},
		{"base-image-moved", side{src: baseSpec, files: baseFiles, lock: pin2}},
		{"host-requirement-added", side{src: strings.Replace(baseSpec, `emulators = ["arm64"]`, "emulators = [\"arm64\"]\n  docker {\n    image_store = \"containerd\"\n  }", 1), files: baseFiles, lock: pin1}},
	}
	bp, bfs := base.compile(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hp, hfs := tt.head.compile(t)
			d := diff.Compute(bp, hp, diff.Options{
				BaseLabel: "base", HeadLabel: "head",
				Files: func(which string, in *plan.Input, st *plan.Step) (map[string]string, error) {
					fsys := hfs
					if which == "base" {
						fsys = bfs
					}
					df := ""
					if in.Kind == "context" {
						df = "p/" + st.Build.Dockerfile
					}
					return inputs.New(fsys).ContextFiles(filepath.ToSlash(filepath.Join("p", in.Path)), df, in.Reads)
				},
			})
			var out bytes.Buffer
			if err := render.Text(&out, d, false); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, out.String())
			if got := d.Changed(); got != (tt.name != "nothing-changed") {
				t.Errorf("Changed() = %t", got)
			}
			js, _ := json.Marshal(d)
			if bytes.Contains(js, []byte(`"two"`)) || bytes.Contains(js, []byte(`"one"`)) {
				t.Errorf("a sensitive value reached the diff: %s", js)
			}
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./diff -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestMarkdownStructure checks the pull-request comment renders as intended:
// the hidden marker, a heading, the summary in bold, the counts, a table per
// target of its own changes with its header and separator, a Mermaid block,
// and the full diff folded.
func TestMarkdownStructure(t *testing.T) {
	bp, _ := side{src: baseSpec, files: baseFiles}.compile(t)
	hp, _ := side{src: strings.Replace(strings.Replace(baseSpec, "app:1", "app:2", 1), "target \"worker\" {\n", "target \"worker\" {\n  depends_on = [target.app]\n", 1), files: baseFiles}.compile(t)
	var out bytes.Buffer
	if err := render.Markdown(&out, diff.Compute(bp, hp, diff.Options{BaseLabel: "main", HeadLabel: "pr"}), render.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	lines := strings.Split(md, "\n")
	if lines[0] != render.Marker || lines[1] != "### bakeplan diff" {
		t.Errorf("first lines %q", lines[:2])
	}
	if !strings.Contains(md, "\n**Diff: 0 to add, 3 to change, 0 to remove.**\n") {
		t.Errorf("no bold summary:\n%s", md)
	}
	for _, title := range []string{"##### app", "##### worker"} {
		i := indexOf(lines, title)
		if i < 0 || lines[i+1] != "" || lines[i+2] != "| | step | change |" || lines[i+3] != "|---|---|---|" {
			t.Errorf("table %q is malformed:\n%s", title, md)
			continue
		}
		for j := i + 4; j < len(lines) && lines[j] != ""; j++ {
			if strings.Count(lines[j], " | ")+2 != 4 || !strings.HasPrefix(lines[j], "| ") || !strings.HasSuffix(lines[j], " |") {
				t.Errorf("row %q does not have three cells", lines[j])
			}
		}
	}
	if !strings.Contains(md, "```mermaid\nflowchart LR\n") || strings.Count(md, "```") != 4 {
		t.Errorf("the Mermaid and folded blocks are not closed properly:\n%s", md)
	}
	if !strings.Contains(md, "<details><summary>Full diff</summary>") || !strings.HasSuffix(md, "</details>\n") {
		t.Errorf("no folded details:\n%s", md)
	}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}

func TestJSONIsVersioned(t *testing.T) {
	bp, _ := side{src: baseSpec, files: baseFiles}.compile(t)
	var out bytes.Buffer
	if err := render.JSON(&out, diff.Compute(bp, bp, diff.Options{})); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v["format_version"] != diff.FormatVersion {
		t.Errorf("JSON %v %s", err, out.String())
	}
}

func TestStale(t *testing.T) {
	saved, _ := side{src: baseSpec, files: baseFiles}.compile(t)
	if s := diff.Stale(saved, saved); len(s) != 0 {
		t.Errorf("a plan is stale against itself: %v", s)
	}
	now, _ := side{src: baseSpec, files: with(baseFiles, "base/Dockerfile", "FROM busybox\n"), vars: []string{"TOKEN=x"}}.compile(t)
	got := strings.Join(diff.Stale(saved, now), "\n")
	for _, want := range []string{"var.TOKEN changed", "build.base: dockerfile base/Dockerfile changed", "build.app: args.TOKEN changed"} {
		if !strings.Contains(got, want) {
			t.Errorf("stale reasons miss %q:\n%s", want, got)
		}
	}

	// Any change to the lock file makes a saved plan stale, and a moved pin
	// names the build it changes.
	locked, _ := side{src: baseSpec, files: baseFiles, lock: pin1}.compile(t)
	moved, _ := side{src: baseSpec, files: baseFiles, lock: pin2}.compile(t)
	got = strings.Join(diff.Stale(locked, moved), "\n")
	for _, want := range []string{"the lock file changed: sha256:", "build.worker: base base:latest sha256:111111111111… → sha256:222222222222…"} {
		if !strings.Contains(got, want) {
			t.Errorf("stale reasons miss %q:\n%s", want, got)
		}
	}
	unrelated, _ := side{src: baseSpec, files: baseFiles, lock: pin1 + "image \"docker.io/library/other:1\" {\n  digest = \"sha256:" + strings.Repeat("3", 64) + "\"\n}\n"}.compile(t)
	if got := diff.Stale(locked, unrelated); len(got) != 1 || !strings.Contains(got[0], "the lock file changed") {
		t.Errorf("a lock change no build sees: %v", got)
	}
}

// TestHostileValuesCannotSpoofReview: values that try to close the folded
// code fence, open an HTML comment, break a table row or reach the terminal
// raw are shown as themselves, and the real tag change stays visible.
func TestHostileValuesCannotSpoofReview(t *testing.T) {
	bp, _ := side{src: baseSpec, files: baseFiles}.compile(t)
	hostile := strings.Replace(baseSpec, `args      = { VERSION = "1", TOKEN = var.TOKEN }`,
		`args      = { VERSION = "1\n`+"```"+`\n<!--", TOKEN = var.TOKEN, "K\nEY|x" = "a|b" }
  labels    = { "\u001b[2J\u001b[31mkey" = "\u202eevil`+"`"+`" }`, 1)
	hostile = strings.Replace(hostile, "app:1", "app:2", 1)
	hp, _ := side{src: hostile, files: baseFiles}.compile(t)
	d := diff.Compute(bp, hp, diff.Options{BaseLabel: "main\x1b[0m", HeadLabel: "pr`<!--"})

	var md bytes.Buffer
	if err := render.Markdown(&md, d, render.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	s := md.String()
	if strings.ContainsAny(s, "\x1b\u202e") {
		t.Errorf("raw control character in the Markdown:\n%s", s)
	}
	// Render it as GitHub would (CommonMark with tables) and check the
	// result: no HTML comment swallowed anything, every row has its four
	// cells, both code blocks closed where the renderer meant them to.
	var html bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.Table), goldmark.WithRendererOptions(gmhtml.WithUnsafe())).Convert(md.Bytes(), &html); err != nil {
		t.Fatal(err)
	}
	h := strings.Replace(html.String(), render.Marker, "", 1)
	if strings.Contains(h, "<!--") {
		t.Errorf("an HTML comment other than the marker reached the rendered page:\n%s", h)
	}
	if n := strings.Count(h, "<pre><code"); n != 2 {
		t.Errorf("%d code blocks rendered, want 2 (mermaid, full diff):\n%s", n, h)
	}
	checkRendered(t, md.Bytes())
	if !strings.Contains(h, "<td><code>tags</code>: +r.example.com/app:2, -r.example.com/app:1</td>") {
		t.Errorf("the tag change is not in a table cell:\n%s", h)
	}
	if !strings.Contains(h, "</details>") {
		t.Errorf("the folded block does not close:\n%s", h)
	}

	var txt bytes.Buffer
	if err := render.Text(&txt, d, true); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(txt.String(), "\n") {
		// Only the renderer's own colour codes may carry ESC.
		clean := l
		for _, c := range []string{"\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[0m"} {
			clean = strings.ReplaceAll(clean, c, "")
		}
		if strings.ContainsAny(clean, "\x1b\u202e\r") {
			t.Errorf("raw control character in %q", l)
		}
		if strings.HasPrefix(strings.TrimSpace(clean), "```") || strings.HasPrefix(strings.TrimSpace(clean), "<!--") {
			t.Errorf("a value broke onto its own line: %q", l)
		}
	}
}

// TestPlacementIsNoChange: two plans that differ only in where a pool's
// build runs have no difference, and neither is stale against the other.
func TestPlacementIsNoChange(t *testing.T) {
	mk := func(node, why string) *plan.Plan {
		p := &plan.Plan{Spec: plan.Spec{Digest: "sha256:a"}, Steps: []*plan.Step{
			{ID: "build.app", Action: plan.ActionBuild, Build: &plan.Build{Target: "app", Builder: "b", Node: node, Placement: why}},
		}}
		p.Index()
		return p
	}
	a, b := mk("tcp://a:1", "sticky: the node this target hashes to"), mk("tcp://b:1", "least loaded: its sticky node a is down (refused)")
	if d := diff.Compute(a, b, diff.Options{}); d.Changed() {
		t.Errorf("a placement alone is a change: %+v", d.Steps)
	}
	if stale := diff.Stale(a, b); len(stale) > 0 {
		t.Errorf("a saved plan is stale for its placement: %v", stale)
	}
	// Nor is it stale when a node of the pool was down and is up again.
	pool := func(state string) *plan.Plan {
		p := mk("tcp://b:1", "sticky")
		p.Steps = append(p.Steps, &plan.Step{ID: "builder.b", Action: plan.ActionNoop,
			Builder:  &plan.Builder{Name: "b", Nodes: []string{"tcp://a:1", "tcp://b:1"}},
			Observed: map[string]string{"node tcp://a:1": state, "node tcp://b:1": "up: BuildKit v0.34.2"}})
		p.Index()
		return p
	}
	if stale := diff.Stale(pool("down: refused"), pool("up: BuildKit v0.34.2")); len(stale) > 0 {
		t.Errorf("a saved plan is stale because a node came back: %v", stale)
	}
}
