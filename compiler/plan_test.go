package compiler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/targetattr"
	"github.com/hashicorp/hcl/v2"
)

func mustCompile(t *testing.T, p project) *plan.Plan {
	t.Helper()
	pl, diags := p.compile(t)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", describe(diags))
	}
	return pl
}

func stepIDs(p *plan.Plan) []string {
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestPlanShape(t *testing.T) {
	p := mustCompile(t, project{
		src: `
host {
  docker {
    image_store = "containerd"
  }
  emulators = ["arm64"]
}
registry "internal" {
  host = "registry.example.com"
}
target "migrations" {
  context = "db"
}
target "base" {
  context   = "base"
  platforms = ["linux/amd64", "linux/arm64/v8"]
}
target "app" {
  contexts   = { base = target.base }
  depends_on = [target.migrations]
  platforms  = target.base.platforms
  tags       = ["registry.example.com/team/app:1"]
  push       = true
  output     = [{ type = "docker" }]
}
group "default" {
  targets = [target.app]
}
`,
		files: map[string]string{"Dockerfile": "FROM base\nRUN true\n", "base/Dockerfile": "FROM scratch\n", "db/Dockerfile": "FROM scratch\n"},
	})
	want := []string{
		"host.docker.image_store", "host.emulator.arm64", "builder.default", "registry.internal",
		"build.base", "build.migrations", "build.app", "publish.app",
	}
	if got := stepIDs(p); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("steps %v, want %v", got, want)
	}
	app := p.Step("build.app")
	wantNeeds := []plan.Edge{
		{Step: "build.base", Kind: plan.EdgeData, Name: "base"},
		{Step: "build.migrations", Kind: plan.EdgeOrder},
		{Step: "builder.default", Kind: plan.EdgeHost},
		{Step: "host.docker.image_store", Kind: plan.EdgeHost},
		{Step: "host.emulator.arm64", Kind: plan.EdgeHost},
	}
	if !equalJSON(app.Needs, wantNeeds) {
		t.Errorf("build.app needs %+v, want %+v", app.Needs, wantNeeds)
	}
	wantRuns := []plan.PlatformRun{{Platform: "linux/amd64", Native: true}, {Platform: "linux/arm64", Emulator: "arm64", Stages: []string{"0"}, RunSteps: 1}}
	if !equalJSON(app.Build.Platforms, wantRuns) {
		t.Errorf("platforms %+v, want %+v (linux/arm64/v8 normalises to linux/arm64)", app.Build.Platforms, wantRuns)
	}
	pub := p.Step("publish.app")
	if !equalJSON(pub.Needs, []plan.Edge{{Step: "build.app", Kind: plan.EdgeBuild}, {Step: "registry.internal", Kind: plan.EdgeHost}}) {
		t.Errorf("publish.app needs %+v", pub.Needs)
	}
	if emu := p.Step("host.emulator.arm64").Emulator; emu.Interpreter != "qemu-aarch64" || emu.Flags != "F" || !equalJSON(emu.Platforms, []string{"linux/arm64"}) {
		t.Errorf("emulator step %+v", emu)
	}
	if d := p.Step("host.emulator.arm64").DeclaredAt; d == nil || d.Line != 6 {
		t.Errorf("emulator declared at %+v, want line 6", d)
	}
	var kinds []string
	for _, in := range app.Build.Inputs {
		kinds = append(kinds, in.Kind+":"+in.Path)
	}
	if strings.Join(kinds, " ") != "dockerfile:Dockerfile context:." {
		t.Errorf("inputs %v", kinds)
	}
}

func TestSplitAcrossBuilders(t *testing.T) {
	p := mustCompile(t, project{src: `
builder "default" {
}
builder "arm" {
  endpoint  = "tcp://arm-builder:1234"
  platforms = ["linux/arm64"]
}
target "app" {
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["r.example.com/app:1"]
  push      = true
}
`})
	amd, arm := p.Step("build.app@default"), p.Step("build.app@arm")
	if amd == nil || arm == nil {
		t.Fatalf("steps %v, want build.app@default and build.app@arm", stepIDs(p))
	}
	if !equalJSON(arm.Build.Platforms, []plan.PlatformRun{{Platform: "linux/arm64", Native: true}}) {
		t.Errorf("arm runs %+v", arm.Build.Platforms)
	}
	pub := p.Step("publish.app")
	if len(pub.Needs) != 2 || pub.Needs[0].Step != "build.app@arm" || pub.Needs[1].Step != "build.app@default" {
		t.Errorf("publish needs %+v", pub.Needs)
	}
}

func TestVariablePrecedence(t *testing.T) {
	src := `
variable "V" {
  default = "default"
}
variable "N" {
  type    = number
  default = 1
}
target "a" {
  args = { V = var.V, N = var.N }
}
`
	tests := []struct {
		name           string
		p              project
		wantV, wantSrc string
		wantN          string
	}{
		{"default", project{src: src}, "default", "default", "1"},
		{"env", project{src: src, environ: []string{"BAKEPLAN_VAR_V=env", "BAKEPLAN_VAR_N=2"}}, "env", "env", "2"},
		{"file beats env", project{src: src, environ: []string{"BAKEPLAN_VAR_V=env"}, varFiles: map[string]string{"v.hcl": "V = \"file\"\n"}}, "file", "file", "1"},
		{"json file", project{src: src, varFiles: map[string]string{"v.json": `{"V": "json", "N": 3}`}}, "json", "file", "3"},
		{"cli beats file", project{src: src, varFiles: map[string]string{"v.hcl": "V = \"file\"\n"}, vars: []string{"V=cli", "N=4"}}, "cli", "cli", "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.p)
			args := p.Step("build.a").Build.Args
			if args["V"] != tt.wantV || args["N"] != tt.wantN {
				t.Errorf("args %v, want V=%s N=%s", args, tt.wantV, tt.wantN)
			}
			for _, v := range p.Variables {
				if v.Name == "V" && v.Source != tt.wantSrc {
					t.Errorf("source %q, want %q", v.Source, tt.wantSrc)
				}
			}
		})
	}
}

func TestSensitiveNeverInPlan(t *testing.T) {
	const secret = "hunter2-very-secret"
	p := mustCompile(t, project{
		src: `
variable "TOKEN" {
  sensitive = true
}
target "a" {
  args   = { TOKEN = "prefix-${var.TOKEN}", PLAIN = "x" }
  secret = [{ id = "npm", env = "NPM_TOKEN" }]
}
`,
		vars: []string{"TOKEN=" + secret},
	})
	data, err := plan.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("hunter2")) {
		t.Fatalf("the plan holds the secret:\n%s", data)
	}
	b := p.Step("build.a").Build
	if b.Args["TOKEN"] != plan.Redacted || b.Args["PLAIN"] != "x" {
		t.Errorf("args %v", b.Args)
	}
	if !strings.HasPrefix(b.SensitiveFingerprints["args.TOKEN"], "sha256:") {
		t.Errorf("fingerprints %v", b.SensitiveFingerprints)
	}
	other := mustCompile(t, project{src: string(mustSrc(t, p)), vars: []string{"TOKEN=other"}})
	if other.Step("build.a").Build.SensitiveFingerprints["args.TOKEN"] == b.SensitiveFingerprints["args.TOKEN"] {
		t.Errorf("a changed sensitive value kept its fingerprint")
	}
}

func mustSrc(t *testing.T, _ *plan.Plan) []byte {
	t.Helper()
	return []byte(`
variable "TOKEN" {
  sensitive = true
}
target "a" {
  args   = { TOKEN = "prefix-${var.TOKEN}", PLAIN = "x" }
  secret = [{ id = "npm", env = "NPM_TOKEN" }]
}
`)
}

func TestMatrixInheritsGroupsFunctions(t *testing.T) {
	p := mustCompile(t, project{src: `
variable "VERSION" {
  default = "v1.0.0"
}
function "image" {
  params         = [name]
  variadic_param = rest
  result         = join("-", concat(["r.example.com/${name}:${var.VERSION}"], rest))
}
target "_common" {
  labels = { team = "core" }
  args   = { A = "common" }
}
target "cli" {
  name     = "cli-${os}"
  matrix   = { os = ["debian", "alpine"] }
  inherits = [target._common]
  args     = { OS = os }
  tags     = [image("cli", os)]
}
target "plain" {
  matrix = { v = ["1.2", "2"] }
}
group "release" {
  targets = [target.cli]
}
group "default" {
  targets = [group.release, target.plain]
}
`})
	want := "builder.default build.cli-alpine build.cli-debian build.plain-1-2 build.plain-2"
	if got := strings.Join(stepIDs(p), " "); got != want {
		t.Fatalf("steps %q, want %q", got, want)
	}
	b := p.Step("build.cli-debian").Build
	if b.Labels["team"] != "core" {
		t.Errorf("labels %v: want inherited team=core", b.Labels)
	}
	if b.Args["OS"] != "debian" || b.Args["A"] != "common" {
		t.Errorf("args %v: the child's map merges into the parent's, as bake's", b.Args)
	}
	if !equalJSON(b.Tags, []string{"r.example.com/cli:v1.0.0-debian"}) {
		t.Errorf("tags %v", b.Tags)
	}
}

func TestSelection(t *testing.T) {
	src := `
target "a" {
}
target "b" {
  depends_on = [target.a]
}
target "c" {
}
`
	tests := []struct {
		sel  []string
		want string
	}{
		{nil, "builder.default build.a build.b build.c"},
		{[]string{"b"}, "builder.default build.a build.b"},
		{[]string{"c"}, "builder.default build.c"},
	}
	for _, tt := range tests {
		p := mustCompile(t, project{src: src, sel: tt.sel})
		if got := strings.Join(stepIDs(p), " "); got != tt.want {
			t.Errorf("select %v: %q, want %q", tt.sel, got, tt.want)
		}
	}
}

func TestDockerignoreAndDigests(t *testing.T) {
	src := "target \"a\" {\n}\n"
	base := map[string]string{
		"Dockerfile":    "FROM scratch\nCOPY . /\n",
		".dockerignore": "*.log\nbuild/\n",
		"main.go":       "package main\n",
		"debug.log":     "one\n",
		"build/out":     "x",
	}
	digest := func(files map[string]string) string {
		p := mustCompile(t, project{src: src, files: files})
		for _, in := range p.Step("build.a").Build.Inputs {
			if in.Kind == "context" {
				return in.Digest
			}
		}
		t.Fatal("no context input")
		return ""
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	d0 := digest(base)
	if d := digest(with("debug.log", "two\n")); d != d0 {
		t.Errorf("an ignored file changed the context digest")
	}
	if d := digest(with("build/other", "y")); d != d0 {
		t.Errorf("a file in an ignored directory changed the context digest")
	}
	if d := digest(with("main.go", "package main // edited\n")); d == d0 {
		t.Errorf("an edited file left the context digest alone")
	}
	if d := digest(with("Dockerfile.dockerignore", "*\n!Dockerfile\n")); d == d0 {
		t.Errorf("the Dockerfile's own ignore file was not used")
	}
}

func TestTimestampHonoursSourceDateEpoch(t *testing.T) {
	p := mustCompile(t, project{
		src:     "target \"a\" {\n  labels = { created = timestamp() }\n}\n",
		environ: []string{"SOURCE_DATE_EPOCH=1700000000"},
	})
	if got := p.Step("build.a").Build.Labels["created"]; got != "2023-11-14T22:13:20Z" {
		t.Errorf("timestamp() = %q", got)
	}
}

func TestAbstractParentNeedsNoDockerfile(t *testing.T) {
	p := mustCompile(t, project{
		src: `
target "_base" {
  context = "nowhere"
  args    = { A = "1" }
}
target "a" {
  inherits = [target._base]
  context  = "."
}
`,
	})
	if got := strings.Join(stepIDs(p), " "); got != "builder.default build.a" {
		t.Errorf("steps %q", got)
	}
	_, diags := project{src: "target \"_base\" {\n  context = \"nowhere\"\n}\ntarget \"a\" {\n  inherits = [target._base]\n}\n", sel: []string{"_base"}}.compile(t)
	if !diags.HasErrors() {
		t.Errorf("naming an abstract target must check it in full")
	}
}

func TestWarningForUndeclaredRegistry(t *testing.T) {
	p, diags := project{src: "target \"a\" {\n  tags = [\"r.example.com/a:1\"]\n  push = true\n}\n"}.compile(t)
	if p == nil || diags.HasErrors() {
		t.Fatalf("unexpected errors: %s", describe(diags))
	}
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != "Push to an undeclared registry" {
		t.Errorf("diagnostics:\n%s", describe(diags))
	}
}

// TestDeterministic compiles the same project many times; Go randomises map
// iteration, so any order leaking into the plan shows up as different bytes.
func TestDeterministic(t *testing.T) {
	proj := project{
		src: `
host {
  emulators = ["arm64", "riscv64"]
}
locals {
  a = { z = "1", y = "2", x = "3", w = "4" }
}
target "t" {
  name      = "t-${v}"
  matrix    = { v = ["a", "b", "c", "d"] }
  platforms = ["linux/riscv64", "linux/arm64", "linux/amd64"]
  args      = local.a
  labels    = local.a
  tags      = ["r.example.com/t-${v}:2", "r.example.com/t-${v}:1"]
  push      = true
  contexts  = { q = "ctx", p = "ctx" }
  secret    = [{ id = "b", env = "B" }, { id = "a", env = "A" }]
}
`,
		files: map[string]string{"Dockerfile": "FROM scratch\n", "ctx/a": "a", "ctx/b": "b", "ctx/c/d": "d"},
	}
	first, err := plan.Marshal(mustCompile(t, proj))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := plan.Marshal(mustCompile(t, proj))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("run %d produced a different plan", i)
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// Targets are checked concurrently; user functions, which may nest, must
// give each target its own answer and the same diagnostics in the same
// order every time (run with -race).
func TestUserFunctionsAcrossConcurrentTargets(t *testing.T) {
	src := `
function "twice" {
  params = [s]
  result = "${s}${s}"
}
function "four" {
  params = [s]
  result = twice(twice(s))
}
function "eight" {
  params = [s]
  result = twice(four(s))
}
function "forever" {
  params = [s]
  result = forever(s)
}
target "t" {
  name     = "t-${i}"
  matrix   = { i = [for n in range(32) : tostring(n)] }
  contexts = { lib = "docker-image://r.example.com/lib:${eight(i)}" }
  tags     = ["r.example.com/t:${four(i)}"]
}
`
	p := mustCompile(t, project{src: src})
	b := p.Step("build.t-7").Build
	if got := b.Contexts[0].Image; got != "r.example.com/lib:77777777" {
		t.Errorf("contexts lib = %q", got)
	}
	if got := b.Tags[0]; got != "r.example.com/t:7777" {
		t.Errorf("tags = %q", got)
	}

	bad := strings.Replace(src, `${eight(i)}`, `${forever(i)}`, 1)
	var first string
	for range 5 {
		_, diags := project{src: bad}.compile(t)
		if len(errorsOf(diags)) != 32 {
			t.Fatalf("want one error per target, got %s", describe(diags))
		}
		if !strings.Contains(diags[0].Detail, "nested deeper than 64") {
			t.Fatalf("detail %q", diags[0].Detail)
		}
		if got := describe(diags); first == "" {
			first = got
		} else if got != first {
			t.Fatalf("diagnostics changed between runs:\n%s\n%s", first, got)
		}
	}
}

// TestSymlinksInsideResolve: a link that stays inside the spec's directory
// is fine, and the plan records where it leads, so the build reads the same
// files the plan digested.
func TestSymlinksInsideResolve(t *testing.T) {
	p := mustCompile(t, project{
		src: "target \"a\" {\n  context = \"ctx\"\n  dockerfile = \"df\"\n}\n",
		files: map[string]string{
			"app/main.go":           "package main\n",
			"docker/app.Dockerfile": "FROM scratch\n",
		},
		links: map[string]string{"ctx": "app", "app/df": "../docker/app.Dockerfile"},
	})
	b := p.Step("build.a").Build
	if b.Context != "app" || b.Dockerfile != "docker/app.Dockerfile" {
		t.Errorf("context %q, dockerfile %q; want the links' targets", b.Context, b.Dockerfile)
	}
}

// TestSensitiveNeverInDiagnostics tries every path by which a sensitive
// value could reach a message: a validation message that interpolates or
// transforms it, a function that quotes its argument, a value that does not
// parse (from --var, the environment, a file), a failing conversion.
func TestSensitiveNeverInDiagnostics(t *testing.T) {
	const secret = "hunter2-s3cr3t"
	decl := `
variable "T" {
  sensitive = true
  default   = "` + secret + `"
  validation {
    condition     = length(var.T) > 40
    error_message = "T ${upper(var.T)} is too short."
  }
}
variable "N" {
  type      = number
  sensitive = true
  default   = 1
}
variable "L" {
  type      = list(string)
  sensitive = true
  default   = []
}
`
	tests := []struct {
		name string
		p    project
	}{
		{"validation message", project{src: decl}},
		{"function quotes its argument", project{src: decl + "target \"a\" {\n  args = { X = tonumber(var.T) }\n}\n"}},
		{"regex quotes its argument", project{src: decl + "target \"a\" {\n  args = { X = regex(\"^z\", var.T) }\n}\n"}},
		{"--var that does not parse", project{src: decl, vars: []string{"N=\"" + secret}}},
		{"environment that does not parse", project{src: decl, environ: []string{"BAKEPLAN_VAR_N=" + secret + " +"}}},
		{"variable file of the wrong type", project{src: decl, varFiles: map[string]string{"v.hcl": "N = \"" + secret + "\"\n"}}},
		{"list element", project{src: decl, vars: []string{`L=["` + secret + `", 1]`}}},
		{"list used as a string", project{src: decl + "target \"a\" {\n  args = { X = var.L[0] }\n  tags = [var.L[0]]\n}\n", vars: []string{`L=["` + secret + `"]`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := tt.p.compile(t)
			if !diags.HasErrors() {
				t.Fatalf("no error")
			}
			for _, d := range diags {
				if strings.Contains(d.Summary+d.Detail, "hunter2") || strings.Contains(d.Summary+d.Detail, "HUNTER2") {
					t.Errorf("the value leaks: %s: %s", d.Summary, d.Detail)
				}
			}
		})
	}
}

// TestSensitiveBuildArgWarns: a sensitive value as a build arg, label or
// annotation is published in the image; the plan warns at the attribute and
// points at secret.
func TestSensitiveBuildArgWarns(t *testing.T) {
	_, diags := project{src: `variable "TOKEN" {
  sensitive = true
  default   = "abc"
}
target "a" {
  args   = { TOKEN = var.TOKEN, PLAIN = "x" }
  labels = { token = var.TOKEN }
}
`}.compile(t)
	if diags.HasErrors() {
		t.Fatal(describe(diags))
	}
	want := map[int]string{6: "secret = [{ id = \"TOKEN\"", 7: "configuration"}
	for _, d := range diags {
		if d.Summary == "Sensitive value published in the image" && d.Subject != nil && strings.Contains(d.Detail, want[d.Subject.Start.Line]) {
			delete(want, d.Subject.Start.Line)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing warnings at lines %v; got:\n%s", want, describe(diags))
	}
}

// TestCompileStopsWhenCancelled: a done context gives no plan and says so.
func TestCompileStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, diags := project{src: "target \"a\" {\n}\n", ctx: ctx}.compile(t)
	if p != nil || !diags.HasErrors() || diags[len(diags)-1].Summary != "Interrupted" {
		t.Errorf("plan %v, diagnostics:\n%s", p != nil, describe(diags))
	}
}

// conditionalContext picks a target or an image for one context.
const conditionalContext = `variable "X" {
  type    = bool
  default = true
}
target "ld64" {
}
target "app" {
  contexts = { ld64 = var.X ? target.ld64 : "docker-image://scratch" }
}
`

// TestBakeFilePatterns: constructs from real bake files that the compiler
// refused or got wrong.
func TestBakeFilePatterns(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		vars  []string
		files map[string]string
		check func(t *testing.T, p *plan.Plan)
	}{
		{
			name: "a template's tags are written by the target that inherits them",
			src: `target "meta" {
  tags = ["example/app:local"]
}
target "image" {
  inherits = [target.meta]
}
`,
			check: func(t *testing.T, p *plan.Plan) {
				if b := p.Step("build.image"); b == nil || strings.Join(b.Build.Tags, ",") != "docker.io/example/app:local" {
					t.Errorf("build.image: %+v", b)
				}
				if p.Step("build.meta") != nil {
					t.Errorf("the template is built")
				}
			},
		},
		{
			name: "a conditional context that picks a target",
			src:  conditionalContext,
			check: func(t *testing.T, p *plan.Plan) {
				b := p.Step("build.app").Build
				if len(b.Contexts) != 1 || b.Contexts[0].Target != "ld64" {
					t.Errorf("contexts %+v", b.Contexts)
				}
			},
		},
		{
			name: "a conditional context that picks the image",
			vars: []string{"X=false"},
			src:  conditionalContext,
			check: func(t *testing.T, p *plan.Plan) {
				b := p.Step("build.app").Build
				if len(b.Contexts) != 1 || b.Contexts[0].Image != "scratch" {
					t.Errorf("contexts %+v", b.Contexts)
				}
			},
		},
		{
			name:  "an attribute that reads another of its own target",
			files: map[string]string{"Dockerfile": "FROM scratch AS runtime\n"},
			src: `target "foo" {
  target = "runtime"
  tags   = ["example/${target.foo.target}:latest"]
}
`,
			check: func(t *testing.T, p *plan.Plan) {
				if tags := p.Step("build.foo").Build.Tags; len(tags) != 1 || tags[0] != "docker.io/example/runtime:latest" {
					t.Errorf("tags %v", tags)
				}
			},
		},
		{
			name: "a user function that reads a local",
			src: `locals {
  repo = "example"
}
function "image" {
  params = [name]
  result = "${local.repo}/${name}:1"
}
target "a" {
  tags = [image("a")]
}
`,
			check: func(t *testing.T, p *plan.Plan) {
				if tags := p.Step("build.a").Build.Tags; len(tags) != 1 || tags[0] != "docker.io/example/a:1" {
					t.Errorf("tags %v", tags)
				}
			},
		},
		{
			name: "exporter attributes are kept",
			src: `target "a" {
  output = [{ type = "oci", dest = "out.tar", compression = "zstd", "oci-mediatypes" = true }]
}
`,
			check: func(t *testing.T, p *plan.Plan) {
				o := p.Step("build.a").Build.Outputs
				if len(o) != 1 || o[0].Attrs["compression"] != "zstd" || o[0].Attrs["oci-mediatypes"] != "true" {
					t.Errorf("outputs %+v", o)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, mustCompile(t, project{src: tt.src, vars: tt.vars, files: tt.files}))
		})
	}
}

const crossDockerfile = `FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app .
FROM scratch AS final
COPY --from=build /out/app /app
FROM debian:bookworm AS debug
COPY --from=build /out/app /app
RUN /app --version
`

// TestEmulationOnlyWhereARunNeedsIt: a stage on $BUILDPLATFORM
// cross-compiles, so a target whose foreign platforms run no RUN needs no
// emulator; one that does says which stages, and the error for a missing
// emulator names the stage and the RUN line.
func TestEmulationOnlyWhereARunNeedsIt(t *testing.T) {
	p := mustCompile(t, project{
		src:   "target \"app\" {\n  target = \"final\"\n  platforms = [\"linux/amd64\", \"linux/arm64\", \"linux/riscv64\"]\n}\n",
		files: map[string]string{"Dockerfile": crossDockerfile},
	})
	want := []plan.PlatformRun{{Platform: "linux/amd64", Native: true}, {Platform: "linux/arm64", CrossCompiled: true}, {Platform: "linux/riscv64", CrossCompiled: true}}
	if got := p.Step("build.app").Build.Platforms; !equalJSON(got, want) {
		t.Errorf("platforms %+v, want %+v", got, want)
	}
	for _, st := range p.Steps {
		if st.Emulator != nil {
			t.Errorf("an emulator step for a cross-compiled build: %s", st.ID)
		}
	}

	p = mustCompile(t, project{
		src:   "host {\n  emulators = [\"arm64\"]\n}\ntarget \"app\" {\n  target = \"debug\"\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n}\n",
		files: map[string]string{"Dockerfile": crossDockerfile},
	})
	run := p.Step("build.app").Build.Platforms[1]
	if run.Emulator != "arm64" || strings.Join(run.Stages, ",") != "debug" || run.RunSteps != 1 || run.How() != "emulated: 1 RUN step in stage debug" {
		t.Errorf("emulated run %+v (%s)", run, run.How())
	}

	_, diags := project{
		src:   "target \"app\" {\n  target = \"debug\"\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n}\n",
		files: map[string]string{"Dockerfile": crossDockerfile},
	}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "the RUN at Dockerfile:8 in stage debug") {
		t.Errorf("a missing emulator: %s", describe(diags))
	}
}

// TestDockerfileChecks: the spec checked against the Dockerfile it builds.
func TestDockerfileChecks(t *testing.T) {
	files := map[string]string{"Dockerfile": crossDockerfile}
	tests := []struct {
		name, src     string
		files         map[string]string
		severity      hcl.DiagnosticSeverity
		summary, want string
		line          int
	}{
		{"unknown stage", "target \"a\" {\n  target = \"fnal\"\n}\n", files, hcl.DiagError, "Unknown target stage", `Did you mean "final"?`, 2},
		{"unused build arg", "target \"a\" {\n  args = { VERSION = \"1\" }\n}\n", files, hcl.DiagWarning, "Build arg no ARG declares", "VERSION", 2},
		{"declared build arg", "target \"a\" {\n  args = { TARGETOS = \"x\", BUILDKIT_INLINE_CACHE = \"1\" }\n}\n", files, hcl.DiagWarning, "", "", 0},
		{"unused context", "target \"a\" {\n  contexts = { tools = \"tools\" }\n}\n", map[string]string{"Dockerfile": crossDockerfile, "tools/x": ""}, hcl.DiagWarning, "Named context no stage uses", `"tools"`, 2},
		{"used context", "target \"a\" {\n  contexts = { \"golang:1.26\" = \"tools\" }\n}\n", map[string]string{"Dockerfile": crossDockerfile, "tools/x": ""}, hcl.DiagWarning, "", "", 0},
		{"bad FROM", "target \"a\" {\n}\n", map[string]string{"Dockerfile": "ARG B=Bad/Ref\nFROM $B\n"}, hcl.DiagError, "Invalid Dockerfile", "Dockerfile:2", 1},
		{"unparsable", "target \"a\" {\n  dockerfile_inline = \"FROM scratch\\nBOGUS x\"\n}\n", nil, hcl.DiagError, "Dockerfile does not parse", "dockerfile_inline:2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := project{src: tt.src, files: tt.files}.compile(t)
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Summary == tt.summary {
					found = d
				}
			}
			if tt.summary == "" {
				if len(diags) > 0 {
					t.Errorf("diagnostics: %s", describe(diags))
				}
				return
			}
			if found == nil || found.Severity != tt.severity || !strings.Contains(found.Detail, tt.want) {
				t.Fatalf("no %q with %q: %s", tt.summary, tt.want, describe(diags))
			}
			if tt.line > 0 && (found.Subject == nil || found.Subject.Start.Line != tt.line) {
				t.Errorf("at %v, want line %d", found.Subject, tt.line)
			}
		})
	}
}

// TestCrossExample: examples/cross plans three platforms with no emulator.
func TestCrossExample(t *testing.T) {
	df, err := os.ReadFile("../examples/cross/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../examples/cross/bakeplan.hcl")
	if err != nil {
		t.Fatal(err)
	}
	p := mustCompile(t, project{src: string(src), files: map[string]string{"Dockerfile": string(df)}})
	var hows []string
	for _, r := range p.Step("build.cross").Build.Platforms {
		hows = append(hows, r.Platform+" "+r.How())
	}
	want := "linux/amd64 native, linux/arm64 cross-compiled, no emulation, linux/riscv64 cross-compiled, no emulation"
	if got := strings.Join(hows, ", "); got != want {
		t.Errorf("%s\nwant %s", got, want)
	}
}

// TestDockerfileLint: BuildKit's lint rules run without a daemon, once per
// Dockerfile, at the Dockerfile's lines; Strict makes them errors; the
// Dockerfile's check=skip directive skips them, and bakeplan's own checks.
func TestDockerfileLint(t *testing.T) {
	df := "FROM alpine as build\nMAINTAINER me\nARG USED\nRUN true\n"
	src := "target \"a\" {\n  args = { X = \"1\" }\n}\ntarget \"b\" {\n}\n"
	_, diags := project{src: src, files: map[string]string{"Dockerfile": df}}.compile(t)
	lint := map[string]int{}
	for _, d := range diags {
		if strings.HasPrefix(d.Summary, "Dockerfile lint: ") {
			if d.Severity != hcl.DiagWarning || d.Subject == nil || d.Subject.Filename != "Dockerfile" {
				t.Errorf("%s: %+v", d.Summary, d.Subject)
			}
			lint[strings.TrimPrefix(d.Summary, "Dockerfile lint: ")] = d.Subject.Start.Line
		}
	}
	if lint["FromAsCasing"] != 1 || lint["MaintainerDeprecated"] != 2 || len(lint) != 2 {
		t.Errorf("lint findings %v (once per Dockerfile, at its lines): %s", lint, describe(diags))
	}
	_, diags = project{src: src, files: map[string]string{"Dockerfile": df}, strict: true}.compile(t)
	if !diags.HasErrors() {
		t.Errorf("Strict: lint findings are not errors")
	}
	skipped := "# check=skip=all\n" + df
	_, diags = project{src: src, files: map[string]string{"Dockerfile": skipped}}.compile(t)
	if len(diags) != 0 {
		t.Errorf("check=skip=all left: %s", describe(diags))
	}
}

// TestInputDigest: the step's input digest changes with what decides the
// build's result and with nothing else.
func TestInputDigest(t *testing.T) {
	base := project{
		src: `variable "TOKEN" {
  sensitive = true
  default   = "a"
}
target "app" {
  platforms = ["linux/amd64", "linux/arm64"]
  args      = { V = "1", T = var.TOKEN }
  labels    = { l = "x" }
  tags      = ["example/app:1"]
}
`,
		files: map[string]string{"Dockerfile": "FROM --platform=$BUILDPLATFORM golang:1.26 AS b\nARG V T\nRUN true\nFROM scratch\nCOPY --from=b / /\n", "main.go": "package main\n"},
	}
	digest := func(p project) string {
		t.Helper()
		return mustCompile(t, p).Step("build.app").Build.InputDigest
	}
	with := func(old, new string) project {
		p := base
		p.src = strings.Replace(base.src, old, new, 1)
		return p
	}
	withFile := func(name, body string) project {
		p := base
		p.files = map[string]string{}
		for k, v := range base.files {
			p.files[k] = v
		}
		p.files[name] = body
		return p
	}
	d := digest(base)
	if d == "" || digest(base) != d {
		t.Fatalf("digest %q is empty or not stable", d)
	}
	changes := map[string]project{
		"an arg":            with(`V = "1"`, `V = "2"`),
		"a sensitive value": with(`default   = "a"`, `default   = "b"`),
		"a label":           with(`l = "x"`, `l = "y"`),
		"a platform":        with(`"linux/amd64", "linux/arm64"`, `"linux/amd64"`),
		"the Dockerfile":    withFile("Dockerfile", base.files["Dockerfile"]+"LABEL z=1\n"),
		"a context file":    withFile("main.go", "package main // edited\n"),
		"a base image":      withFile("Dockerfile", strings.Replace(base.files["Dockerfile"], "golang:1.26", "golang:1.25", 1)),
		"the stage built":   with(`tags      = ["example/app:1"]`, "tags      = [\"example/app:1\"]\n  target    = \"b\""),
	}
	for what, p := range changes {
		if digest(p) == d {
			t.Errorf("changing %s left the input digest as it was", what)
		}
	}
	if digest(with(`"example/app:1"`, `"example/app:2"`)) != d {
		t.Errorf("a tag changed the input digest; tags do not change the image")
	}

	// A target that feeds another as a named context decides its result:
	// a change to it changes the other's digest, transitively.
	chain := project{
		src: `target "base" {
  context = "base"
}
target "mid" {
  context  = "mid"
  contexts = { base = target.base }
}
target "app" {
  contexts = { mid = target.mid }
}
`,
		files: map[string]string{"base/Dockerfile": "FROM scratch\n", "mid/Dockerfile": "FROM base\n", "Dockerfile": "FROM mid\n"},
	}
	before := mustCompile(t, chain)
	chain.files = map[string]string{"base/Dockerfile": "FROM scratch\nLABEL v=2\n", "mid/Dockerfile": "FROM base\n", "Dockerfile": "FROM mid\n"}
	after := mustCompile(t, chain)
	for _, id := range []string{"build.base", "build.mid", "build.app"} {
		if before.Step(id).Build.InputDigest == after.Step(id).Build.InputDigest {
			t.Errorf("%s: a change to target base left its input digest as it was", id)
		}
	}
}

// TestUnusedArgOneWarningPerName: a common arg passed to many targets whose
// Dockerfiles do not declare it is one warning, naming a few of them.
func TestUnusedArgOneWarningPerName(t *testing.T) {
	var src strings.Builder
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		fmt.Fprintf(&src, "target %q {\n  args = { VERSION = \"1\" }\n}\n", n)
	}
	_, diags := project{src: src.String()}.compile(t)
	var warnings []*hcl.Diagnostic
	for _, d := range diags {
		if d.Summary == "Build arg no ARG declares" {
			warnings = append(warnings, d)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Detail, "target.a, target.b, target.c and 2 more targets pass the build arg VERSION") {
		t.Errorf("warnings: %s", describe(warnings))
	}
}

// TestInheritsMergesAsBake: inherits combines attributes the way docker
// buildx bake v0.38.2 does: maps key by key, secrets and ssh by id and
// attestations by type (a later entry replacing an earlier one in place),
// cache_from entries all kept; lists such as tags and platforms, and
// scalars, replaced whole. Later parents win over earlier ones, the
// target's own values over all, and a sensitive value stays sensitive.
func TestInheritsMergesAsBake(t *testing.T) {
	p := mustCompile(t, project{src: `variable "TOKEN" {
  sensitive = true
  default   = "s3cret-value"
}
target "_one" {
  args       = { A = "one", B = "one", T = var.TOKEN }
  labels     = { team = "core" }
  tags       = ["r.example.com/one:1"]
  platforms  = ["linux/amd64", "linux/arm64"]
  secret     = [{ id = "npm", env = "NPM_TOKEN" }, { id = "netrc", file = "/dev/null" }]
  cache_from = [{ type = "registry", ref = "r.example.com/cache:one" }]
  target     = "build"
}
target "_two" {
  args       = { B = "two", C = "two" }
  secret     = [{ id = "npm", env = "NPM_TOKEN_2" }]
  cache_from = [{ type = "registry", ref = "r.example.com/cache:one" }, { type = "registry", ref = "r.example.com/cache:two" }]
}
target "app" {
  inherits   = [target._one, target._two]
  args       = { C = "app", D = "app" }
  labels     = { owner = "me" }
  tags       = ["r.example.com/app:1"]
  platforms  = ["linux/amd64"]
  secret     = [{ id = "gh", env = "GH_TOKEN" }]
}
`, files: map[string]string{"Dockerfile": "FROM scratch AS build\nARG A B C D T\n"}})
	b := p.Step("build.app").Build
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	check("args", b.Args, map[string]string{"A": "one", "B": "two", "C": "app", "D": "app", "T": plan.Redacted})
	check("sensitive arg", b.SensitiveFingerprints["args.T"] != "", true)
	check("labels", b.Labels, map[string]string{"owner": "me", "team": "core"})
	check("tags", b.Tags, []string{"r.example.com/app:1"})
	check("platforms", len(b.Platforms), 1)
	check("stage", b.Stage, "build")
	var secrets []string
	for _, s := range b.Secrets {
		secrets = append(secrets, s.ID+"="+s.Env+s.File)
	}
	check("secrets", secrets, []string{"gh=GH_TOKEN", "netrc=/dev/null", "npm=NPM_TOKEN_2"})
	var caches []string
	for _, c := range b.CacheFrom {
		caches = append(caches, c["ref"])
	}
	check("cache_from", caches, []string{"r.example.com/cache:one", "r.example.com/cache:two"})
}

// TestBakeFunctions: bake's own functions behave as bake's (buildx
// v0.38.2): indexof, basename, dirname, sanitize and homedir.
func TestBakeFunctions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`indexof(["a", "b", "c"], "b")`, "1"},
		{`basename("/src/app/main.go")`, "main.go"},
		{`dirname("/src/app/main.go")`, "/src/app"},
		{`sanitize("feature/login@2.0")`, "feature_login_2_0"},
		{`homedir()`, "/home/builder"},
	} {
		p, diags := project{src: "target \"app\" {\n  args = { V = \"${" + tc.expr + "}\" }\n}\n", files: map[string]string{"Dockerfile": "FROM scratch\nARG V\n"}, environ: []string{"HOME=/home/builder"}}.compile(t)
		if diags.HasErrors() {
			t.Errorf("%s: %s", tc.expr, diags)
			continue
		}
		if got := p.Step("build.app").Build.Args["V"]; got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
	_, diags := project{src: "target \"app\" {\n  args = { V = \"${indexof([\"a\"], \"z\")}\" }\n}\n"}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "item not found") {
		t.Errorf("indexof of a missing item: %s", diags)
	}
}

// TestSetOverrides: --set overrides targets as bake's --set does: a pattern
// over target names, bake's key names and aliases, += to append, repeated
// list keys adding up, CSV outputs, once per target after inherits.
func TestSetOverrides(t *testing.T) {
	src := `target "_common" {
  tags = ["r.example.com/common:1"]
}
target "app" {
  inherits  = [target._common]
  args      = { A = "1" }
  tags      = ["r.example.com/app:1"]
  platforms = ["linux/amd64"]
}
target "worker" {
  args = { A = "1" }
}
`
	files := map[string]string{"Dockerfile": "FROM scratch\nARG A B\n"}
	p, diags := project{src: src, files: files, sets: []string{
		"*.platforms=linux/amd64,linux/arm64",
		"app.args.B=2",
		"app.tags+=r.example.com/app:latest",
		"worker.tag=r.example.com/worker:1",
		"worker.tag=r.example.com/worker:latest",
		"worker.output=type=local,dest=out",
		"worker.no-cache=true",
	}}.compile(t)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	app, worker := p.Step("build.app").Build, p.Step("build.worker").Build
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	check("app platforms", len(app.Platforms), 2)
	check("app args", app.Args, map[string]string{"A": "1", "B": "2"})
	check("app tags", app.Tags, []string{"r.example.com/app:1", "r.example.com/app:latest"})
	check("worker tags", worker.Tags, []string{"r.example.com/worker:1", "r.example.com/worker:latest"})
	check("worker outputs", len(worker.Outputs) == 1 && worker.Outputs[0].Type == "local" && worker.Outputs[0].Dest == "out", true)
	check("worker no_cache", worker.NoCache, true)
	check("plan records --set", len(p.Set), 7)

	for _, tc := range []struct{ set, want string }{
		{"app.bogus=1", `does not take "bogus"`},
		{"app.args=1", "args needs a name"},
		{"app.push+=true", "+= appends to a list"},
		{"app", "expected PATTERN.KEY=VALUE"},
		{"[.tags=x", "malformed"},
		{"app.push=maybe", `"maybe" is not true or false`},
	} {
		_, diags := project{src: src, files: files, sets: []string{tc.set}}.compile(t)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("--set %s: %v; want %q", tc.set, diags, tc.want)
		}
	}
}

// TestCSVForms: the CSV strings bake takes for output, cache_from, cache_to,
// secret, ssh and attest are read as the objects they stand for, beside
// objects in the same list.
func TestCSVForms(t *testing.T) {
	p := mustCompile(t, project{src: `target "app" {
  output     = ["type=local,dest=out", { type = "oci", dest = "app.tar" }]
  cache_from = ["type=registry,ref=r.example.com/cache"]
  cache_to   = ["type=inline"]
  secret     = ["id=npm,env=NPM_TOKEN", "id=netrc,src=/dev/null", "type=env,id=GH_TOKEN", "type=env,id=aws,src=AWS_KEY"]
  ssh        = ["default", "deploy=/keys/a,/keys/b"]
  attest     = ["type=provenance,mode=max"]
}
`})
	b := p.Step("build.app").Build
	got := fmt.Sprint(b.Outputs[0].Type, b.Outputs[0].Dest, b.Outputs[1].Type, " ", b.CacheFrom, b.CacheTo, " ", len(b.Secrets), " ", b.Attest)
	want := "localoutoci [map[ref:r.example.com/cache type:registry]] [map[type:inline]] 4 [map[mode:max type:provenance]]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var secrets, ssh []string
	for _, s := range b.Secrets {
		secrets = append(secrets, s.ID+":"+s.Env+s.File)
	}
	for _, s := range b.SSH {
		ssh = append(ssh, s.ID+":"+strings.Join(s.Paths, "+"))
	}
	if fmt.Sprint(secrets) != "[GH_TOKEN:GH_TOKEN aws:AWS_KEY netrc:/dev/null npm:NPM_TOKEN]" || fmt.Sprint(ssh) != "[default: deploy:/keys/a+/keys/b]" {
		t.Errorf("secrets %v, ssh %v", secrets, ssh)
	}
	// An empty list from an expression that also gives strings, as bake
	// files write "no cache".
	empty := mustCompile(t, project{src: `variable "CACHE" {
  default = null
}
target "app" {
  cache_from = var.CACHE == null ? [] : ["type=registry,ref=${var.CACHE}"]
}
`}).Step("build.app").Build
	if len(empty.CacheFrom) != 0 {
		t.Errorf("empty cache_from: %v", empty.CacheFrom)
	}
	// bake's lone forms: an output directory, a cache reference.
	lone := mustCompile(t, project{src: `target "app" {
  output     = ["./bin"]
  cache_from = ["user/app:cache"]
  cache_to   = ["type=inline"]
}
`}).Step("build.app").Build
	if got := fmt.Sprint(lone.Outputs[0].Type, " ", lone.Outputs[0].Dest, " ", lone.CacheFrom); got != "local ./bin [map[ref:user/app:cache type:registry]]" {
		t.Errorf("lone forms: %s", got)
	}
	_, diags := project{src: "target \"app\" {\n  secret = [\"id=x,bogus=1\"]\n}\n"}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "a secret takes type, id, env and src, not bogus") {
		t.Errorf("a malformed CSV secret: %v", diags)
	}
}

// TestBakeEnvironment: with BakeEnv, a bare NAME in the environment sets
// var.NAME in bake's forms, below BAKEPLAN_VAR_NAME; without it, a bare
// NAME is ignored.
func TestBakeEnvironment(t *testing.T) {
	src := `variable "TAG" {
  default = "dev"
}
variable "PLATFORMS" {
  type    = list(string)
  default = ["linux/amd64"]
}
variable "EXTRA" {
  type    = map(string)
  default = {}
}
variable "OVERRIDDEN" {
  default = "spec"
}
target "app" {
  args      = merge({ TAG = var.TAG, OVERRIDDEN = var.OVERRIDDEN }, var.EXTRA)
  platforms = var.PLATFORMS
}
`
	files := map[string]string{"Dockerfile": "FROM scratch\nARG TAG OVERRIDDEN A B\n"}
	env := []string{"TAG=v1.2.3", "PLATFORMS=linux/amd64,linux/arm64", "EXTRA=A:1,B:2", "OVERRIDDEN=bare", "BAKEPLAN_VAR_OVERRIDDEN=prefixed"}
	p, diags := project{src: src, files: files, environ: env, bakeEnv: true}.compile(t)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := p.Step("build.app").Build
	if fmt.Sprint(b.Args) != "map[A:1 B:2 OVERRIDDEN:prefixed TAG:v1.2.3]" || len(b.Platforms) != 2 {
		t.Errorf("args %v, platforms %v", b.Args, b.Platforms)
	}
	p, diags = project{src: src, files: files, environ: env}.compile(t)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if b := p.Step("build.app").Build; b.Args["TAG"] != "dev" || len(b.Platforms) != 1 {
		t.Errorf("without BakeEnv a bare NAME was read: %v", b.Args)
	}
	_, diags = project{src: src, files: files, environ: []string{"EXTRA=nocolon"}, bakeEnv: true}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), `"nocolon" is not KEY:VALUE`) {
		t.Errorf("a malformed map: %v", diags)
	}
}

// TestVariableDefaultsReadVariables: a default may read other variables,
// in any order of declaration, as bake's may; one that reads a sensitive
// variable is sensitive; a cycle is an error.
func TestVariableDefaultsReadVariables(t *testing.T) {
	src := `variable "IMAGE" {
  default = "${var.REGISTRY}/app:${var.TAG}"
}
variable "REGISTRY" {
  default = "r.example.com"
}
variable "TAG" {
  default = "1"
}
variable "TOKEN" {
  sensitive = true
  default   = "s3cret-token"
}
variable "AUTH" {
  default = "bearer ${var.TOKEN}"
}
target "app" {
  tags = [var.IMAGE]
  args = { AUTH = var.AUTH }
}
`
	p, diags := project{src: src, files: map[string]string{"Dockerfile": "FROM scratch\nARG AUTH\n"}, vars: []string{"TAG=2"}}.compile(t)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b := p.Step("build.app").Build
	if fmt.Sprint(b.Tags) != "[r.example.com/app:2]" || b.Args["AUTH"] != plan.Redacted {
		t.Errorf("tags %v, args %v", b.Tags, b.Args)
	}
	for _, v := range p.Variables {
		if v.Name == "AUTH" && (!v.Sensitive || strings.Contains(string(v.Value), "s3cret")) {
			t.Errorf("var.AUTH, read from a sensitive variable, is recorded as %+v", v)
		}
	}
	_, diags = project{src: "variable \"A\" {\n  default = var.B\n}\nvariable \"B\" {\n  default = var.A\n}\n"}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Cycle in variable defaults") {
		t.Errorf("a cycle: %v", diags)
	}
}

// TestRunOptions: shm_size, ulimits, extra_hosts, no_cache_filter and
// entitlements reach the plan normalised, and bad values are errors at
// their attribute.
func TestRunOptions(t *testing.T) {
	p := mustCompile(t, project{src: `target "app" {
  shm_size        = "128m"
  ulimits         = ["nofile=1024:2048", "nproc=512"]
  extra_hosts     = { "db.local" = "10.0.0.5", "v6.local" = "[::1]" }
  no_cache_filter = ["build"]
  entitlements    = ["security.insecure", "network.host", "network.host"]
}
`})
	b := p.Step("build.app").Build
	got := fmt.Sprint(b.ShmSize, b.Ulimits, b.ExtraHosts, b.NoCacheFilter, b.Entitlements)
	want := "134217728 [nofile=1024:2048 nproc=512:512] map[db.local:10.0.0.5 v6.local:[::1]] [build] [network.host security.insecure]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, tc := range []struct{ attr, want string }{
		{`shm_size = "lots"`, "shm_size is a size"},
		{`ulimits = ["nofile"]`, "is not a ulimit"},
		{`extra_hosts = { db = "nowhere" }`, "not an IP address"},
		{`entitlements = ["root"]`, "an entitlement is"},
		{`hostname = "a_b"`, "is not a host name"},
		{`hostname = "-a"`, "is not a host name"},
		{`hostname = "a..b"`, "is not a host name"},
		{`hostname = "a\nb"`, "is not a host name"},
		{`hostname = "` + strings.Repeat("a", 65) + `"`, "at most 64 characters"},
	} {
		_, diags := project{src: "target \"app\" {\n  " + tc.attr + "\n}\n"}.compile(t)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) || diags[0].Subject == nil || diags[0].Subject.Start.Line != 2 {
			t.Errorf("%s: %v; want %q at line 2", tc.attr, diags, tc.want)
		}
	}
}

// TestBakeOutputsAndLocalPlatform: bake's type=image,push=true is the
// registry push and type=cacheonly exports nothing; type=image without push
// is an error; platforms = ["local"] is the native platform.
func TestBakeOutputsAndLocalPlatform(t *testing.T) {
	p := mustCompile(t, project{src: `target "pushed" {
  output    = ["type=image,push=true"]
  tags      = ["r.example.com/app:1"]
  platforms = ["local"]
}
target "cached" {
  output = ["type=cacheonly"]
}
`})
	pushed, cached := p.Step("build.pushed").Build, p.Step("build.cached").Build
	if !pushed.Push || len(pushed.Platforms) != 1 || pushed.Platforms[0].Platform != "linux/amd64" {
		t.Errorf("pushed: push %v, platforms %v", pushed.Push, pushed.Platforms)
	}
	if len(cached.Outputs) != 1 || cached.Outputs[0].Type != "cacheonly" || cached.Push {
		t.Errorf("cached: outputs %v", cached.Outputs)
	}
	_, diags := project{src: "target \"a\" {\n  output = [\"type=image\"]\n}\n"}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "type=image without push=true") {
		t.Errorf("type=image without push: %v", diags)
	}
}

// TestAlternativesShareATag: targets never built in one run may write the
// same tag, as bake files give image and image-cross one tag through a
// template.
func TestAlternativesShareATag(t *testing.T) {
	src := `target "_meta" {
  tags = ["r.example.com/app:1"]
}
target "image" {
  inherits = [target._meta]
}
target "image-cross" {
  inherits  = [target._meta]
  platforms = ["linux/amd64", "linux/arm64"]
}
host {
  emulators = ["arm64"]
}
`
	for _, sel := range [][]string{{"image"}, {"image-cross"}} {
		p := mustCompile(t, project{src: src, sel: sel})
		if b := p.Step("build." + sel[0]).Build; len(b.Tags) != 1 {
			t.Errorf("%v: tags %v", sel, b.Tags)
		}
	}
}

// TestCustomFrontend: a file a custom frontend reads (named by "# syntax="
// or a BUILDKIT_SYNTAX build arg) is not parsed as a Dockerfile; the plan
// says so, and plans foreign platforms under emulation.
func TestCustomFrontend(t *testing.T) {
	for _, tc := range []struct{ name, src, file string }{
		{"directive", `target "app" {
  dockerfile = "build.yaml"
  platforms  = ["linux/amd64", "linux/arm64"]
}
host {
  emulators = ["arm64"]
}
`, "# syntax=registry.example.com/frontends/blubber:v1\nversion: v4\n"},
		{"build arg", `target "app" {
  dockerfile = "build.yaml"
  args       = { BUILDKIT_SYNTAX = "registry.example.com/frontends/blubber:v1" }
  platforms  = ["linux/amd64", "linux/arm64"]
}
host {
  emulators = ["arm64"]
}
`, "version: v4\n"},
	} {
		p, diags := project{src: tc.src, files: map[string]string{"build.yaml": tc.file}}.compile(t)
		if diags.HasErrors() || len(diags) != 1 || diags[0].Summary != "Not a Dockerfile" {
			t.Errorf("%s: %s", tc.name, describe(diags))
			continue
		}
		if runs := p.Step("build.app").Build.Platforms; len(runs) != 2 || runs[1].Emulator != "arm64" {
			t.Errorf("%s: platforms %+v", tc.name, runs)
		}
	}
	// docker/dockerfile is BuildKit's own frontend: the file is read.
	_, diags := project{src: `target "app" {}`, files: map[string]string{"Dockerfile": "# syntax=docker/dockerfile:1\nFROM scratch\nBOGUS x\n"}}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Dockerfile does not parse") {
		t.Errorf("docker/dockerfile: %s", describe(diags))
	}
}

// TestEmptyListElements: bake drops empty strings (and repeats) from
// tags, platforms, no_cache_filter, ulimits and entitlements, so that a
// conditional element can be written cond ? "app:latest" : "".
func TestEmptyListElements(t *testing.T) {
	b := mustCompile(t, project{src: `variable "LATEST" {
  default = false
}
target "app" {
  tags            = ["app:1", var.LATEST ? "app:latest" : ""]
  platforms       = ["linux/amd64", ""]
  no_cache_filter = ["", "build", "build"]
  ulimits         = ["", "nofile=1024:2048"]
  entitlements    = ["network.host", ""]
}
`}).Step("build.app").Build
	got := fmt.Sprint(b.Tags, len(b.Platforms), b.NoCacheFilter, b.Ulimits, b.Entitlements)
	if want := "[docker.io/library/app:1] 1 [build] [nofile=1024:2048] [network.host]"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestBakeOutputForms: an empty output is skipped, as bake skips it, and
// bake's image names in an output (type=docker,name=...) join the tags.
func TestBakeOutputForms(t *testing.T) {
	b := mustCompile(t, project{src: `variable "DESTDIR" {
  default = ""
}
target "app" {
  tags   = ["app:1"]
  output = ["${var.DESTDIR}", "type=docker,name=tests:latest"]
}
`}).Step("build.app").Build
	if got := fmt.Sprint(b.Tags, " ", len(b.Outputs), " ", b.Outputs[0].Type, " ", b.Outputs[0].Attrs); got != "[docker.io/library/app:1 docker.io/library/tests:latest] 1 docker map[]" {
		t.Errorf("got %s", got)
	}
	_, diags := project{src: "target \"app\" {\n  output = [\"type=docker,name=Bad Name\"]\n}\n"}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Invalid tag") || diags[0].Subject.Start.Line != 2 {
		t.Errorf("a bad output name: %v", diags)
	}
}

// TestCall: a subrequest instead of the build exports, pushes and tags
// nothing; --set sets it as bake's does.
func TestCall(t *testing.T) {
	src := `target "app" {
  tags   = ["r.example.com/app:1"]
  push   = true
  output = [{ type = "oci", dest = "app.tar" }]
  cache_to = [{ type = "inline" }]
}
`
	p := mustCompile(t, project{src: src, sets: []string{"app.call=check"}})
	b := p.Step("build.app").Build
	if b.Call != "check" || b.Push || len(b.Outputs) != 0 || len(b.CacheTo) != 0 || p.Step("publish.app") != nil {
		t.Errorf("call check: %+v", b)
	}
	if built := mustCompile(t, project{src: src}).Step("build.app").Build; built.InputDigest == b.InputDigest {
		t.Error("the input digest does not tell a check from the build")
	}
}

// TestBakeFunctions: the rest of bake's function list, with bake's
// behaviour (buildx v0.38.2, bake/hclparser/stdlib.go).
func TestBakeFunctionList(t *testing.T) {
	b := mustCompile(t, project{src: `target "app" {
  args = {
    SEMVER    = semvercmp("1.4.2", ">= 1.2, < 2")
    OLD       = semvercmp("0.9.0", ">= 1.2")
    FROM_UNIX = formattimestamp("YYYY-MM-DD hh:mm", 1767225600)
    FROM_RFC  = formattimestamp("X", "2026-01-01T00:00:00Z")
    PARTS     = jsonencode([for k in ["year", "month_name", "weekday_name", "iso_week"] : unixtimestampparse(1767225600)[k]])
    ABS       = absolute(-3)
    HAS       = sethaselement(toset(["a", "b"]), "b")
    REVLIST   = join(",", reverselist(["a", "b", "c"]))
    CIDR      = cidrsubnet("10.0.0.0/16", 8, 2)
    NETMASK   = cidrnetmask("10.0.0.0/12")
    UUID5     = uuidv5("dns", "example.com")
    CONVERT   = jsonencode(convert(["a"], list(string)))
    MD5       = md5("a")
    B64       = base64decode(base64encode("bake"))
  }
}
`}).Step("build.app").Build
	want := map[string]string{
		"SEMVER": "true", "OLD": "false", "FROM_UNIX": "2026-01-01 00:00", "FROM_RFC": "1767225600",
		"PARTS": `[2026,"January","Thursday",1]`, "ABS": "3", "HAS": "true", "REVLIST": "c,b,a",
		"CIDR": "10.0.2.0/24", "NETMASK": "255.240.0.0", "UUID5": "cfbff0d1-9375-5685-968c-48ce8b15ae17",
		"CONVERT": `["a"]`, "MD5": "0cc175b9c0f1b6a831c399e269772661", "B64": "bake",
	}
	for k, v := range want {
		if b.Args[k] != v {
			t.Errorf("%s = %q, want %q", k, b.Args[k], v)
		}
	}
}

// TestSetBakeKeys: bake's --set keys for secrets, SSH, attestations and
// the run options, in bake's forms; += adds to what the spec has.
func TestSetBakeKeys(t *testing.T) {
	src := `target "app" {
  secret = [{ id = "npm", env = "NPM_TOKEN" }]
}
`
	p := mustCompile(t, project{src: src, sets: []string{
		"app.secrets+=id=netrc,src=/dev/null",
		"app.secrets+=type=env,id=GH_TOKEN",
		"app.ssh=default",
		"app.attest=type=provenance,mode=max",
		"app.ulimits=nofile=1024:2048",
		"app.no-cache-filter=build,test",
		"app.entitlements=network.host",
		"app.shm-size=128m",
	}})
	b := p.Step("build.app").Build
	var secrets []string
	for _, s := range b.Secrets {
		secrets = append(secrets, s.ID+":"+s.Env+s.File)
	}
	got := fmt.Sprint(secrets, " ", len(b.SSH), " ", b.Attest, " ", b.Ulimits, " ", b.NoCacheFilter, " ", b.Entitlements, " ", b.ShmSize)
	want := "[GH_TOKEN:GH_TOKEN netrc:/dev/null npm:NPM_TOKEN] 1 [map[mode:max type:provenance]] [nofile=1024:2048] [build test] [network.host] 134217728"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	_, diags := project{src: src, sets: []string{"app.secrets=id=x,bogus=1"}}.compile(t)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "not bogus") {
		t.Errorf("a bad --set secret: %v", diags)
	}
}

// setSamples are, for every attribute --set takes, a value it accepts, in
// the spelling --set reads. An attribute resolved by its field's kind
// (with no check of its own) needs none: kindSamples has one.
var setSamples = map[string]string{
	"context": "sub", "dockerfile": "Other.Dockerfile", "target": "final",
	"platforms": "linux/amd64,linux/arm64", "args": "X=1", "labels": "x=1",
	"annotations": "org.example=1", "tags": "r.example.com/app:2", "push": "true",
	"output": "type=local,dest=out", "cache_from": "type=registry,ref=r.example.com/cache",
	"cache_to": "type=inline", "secret": "id=npm,env=NPM_TOKEN", "ssh": "default",
	"no_cache": "true", "network": "none", "shm_size": "128m", "ulimits": "nofile=1024:2048",
	"no_cache_filter": "final", "entitlements": "network.host", "call": "check",
	"attest": "type=sbom",
}

// kindSamples are values --set takes for a field of each plain kind.
var kindSamples = map[plan.FieldKind]string{
	plan.KindString: "x1", plan.KindBool: "true", plan.KindInt: "7", plan.KindList: "a,b",
	plan.KindMap: "k=v", plan.KindMaps: "k=v",
}

func fieldKind(field string) plan.FieldKind {
	for _, f := range plan.AttrFields() {
		if f.Field == field {
			return f.Kind
		}
	}
	return plan.KindStructured
}

// TestSetReachesTheBuild proves by difference that each attribute --set
// takes reaches the build step: under every spelling targetattr lists,
// --set changes the field the attribute becomes.
func TestSetReachesTheBuild(t *testing.T) {
	src := `target "app" {
  tags = ["r.example.com/app:1"]
}
`
	files := map[string]string{
		"Dockerfile":           "FROM scratch AS final\nCOPY f /\n",
		"Other.Dockerfile":     "FROM scratch AS final\n",
		"sub/Other.Dockerfile": "FROM scratch AS final\n",
		"sub/Dockerfile":       "FROM scratch AS final\n",
		"f":                    "x",
	}
	base := mustCompile(t, project{src: src, files: files}).Step("build.app").Build
	for _, a := range targetattr.All {
		if a.Set == targetattr.NoSet {
			continue
		}
		sample, ok := setSamples[a.Name]
		if !ok {
			sample, ok = kindSamples[fieldKind(a.Field)]
		}
		if !ok {
			t.Errorf("--set takes %s, but setSamples has no value for it", a.Name)
			continue
		}
		for _, key := range append([]string{a.Name}, a.SetNames...) {
			set := "app." + key + "=" + sample
			if a.Set == targetattr.Named {
				set = "app." + key + "." + sample // KEY.NAME=VALUE
			}
			p, diags := project{src: src, files: files, sets: []string{set}}.compile(t)
			if diags.HasErrors() {
				t.Errorf("--set %s: %v", set, diags)
				continue
			}
			b := p.Step("build.app").Build
			before := reflect.ValueOf(base).Elem().FieldByName(a.Field)
			after := reflect.ValueOf(b).Elem().FieldByName(a.Field)
			if !before.IsValid() {
				t.Errorf("%s becomes plan.Build.%s, which does not exist", a.Name, a.Field)
				break
			}
			if reflect.DeepEqual(before.Interface(), after.Interface()) {
				t.Errorf("--set %s left plan.Build.%s as it was: %v", set, a.Field, after.Interface())
			}
		}
	}
}

// TestSensitiveValuesInEveryAttribute: a sensitive value in each target
// attribute is either shown as (sensitive) where targetattr says it may be
// given, or refused with a diagnostic at its line: never shown, and never
// a crash (reading a marked value unmarked panics).
func TestSensitiveValuesInEveryAttribute(t *testing.T) {
	const secret = "s3cr3t-value"
	sample := func(ty string) string {
		switch {
		case ty == "bool":
			return "var.B"
		case ty == "string":
			return "var.S"
		case ty == "list(string)":
			return "[var.S]"
		case ty == "map(string)":
			return "{ k = var.S }"
		case strings.HasPrefix(ty, "list(map("):
			return "[{ type = var.S }]"
		case strings.HasPrefix(ty, "list(object("):
			return "[{ id = var.S }]"
		}
		t.Fatalf("no sample for type %s", ty)
		return ""
	}
	for _, a := range targetattr.All {
		if a.Structural() {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			src := fmt.Sprintf(`variable "S" {
  default   = %q
  sensitive = true
}
variable "B" {
  default   = true
  sensitive = true
}
target "app" {
  %s = %s
}
`, secret, a.Name, sample(a.Type))
			p, diags := project{src: src, files: map[string]string{"Dockerfile": "FROM scratch\n"}}.compile(t)
			if strings.Contains(diags.Error(), secret) {
				t.Errorf("a diagnostic shows the value: %v", diags)
			}
			if !a.MayBeSensitive {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), "Sensitive value not allowed here") {
					t.Errorf("a sensitive %s was not refused: %v", a.Name, diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatalf("a sensitive %s, which may be given: %v", a.Name, diags)
			}
			enc, err := plan.Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(enc.Bytes(), []byte(secret)) {
				t.Errorf("the plan shows the sensitive %s", a.Name)
			}
		})
	}
}

// TestPools: a builder's pool of nodes is checked at its line, and each
// build step of the pool is placed on one node, with why.
func TestPools(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM scratch\n"}
	for _, tc := range []struct{ builder, want string }{
		{`endpoint = "tcp://a:1"` + "\n  nodes = [\"tcp://b:1\"]", "Both endpoint and nodes"},
		{`nodes = []`, "Empty pool"},
		{`nodes = ["tcp://a:1", "tcp://a:1"]`, "Duplicate pool node"},
		{`nodes = ["auto"]`, "Invalid pool node"},
		{`nodes = ["ftp://a"]`, "unknown endpoint scheme"},
		{`nodes = ["tcp://a:1"]` + "\n  platforms = [\"linux/amd64\"]\n  max_solves = -1", "Invalid max_solves"},
		{`nodes = ["tcp://a:1"]`, "Remote builder without platforms"},
	} {
		src := fmt.Sprintf("builder \"b\" {\n  %s\n}\ntarget \"app\" {\n}\n", tc.builder)
		_, diags := project{src: src, files: files}.compile(t)
		if !diags.HasErrors() || !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.builder, diags, tc.want)
		}
	}
	src := `builder "b" {
  nodes      = ["tcp://a:1", "tcp://b:1"]
  platforms  = ["linux/amd64"]
  max_solves = 2
}
target "app" {
  name   = "app-${i}"
  matrix = { i = ["1", "2", "3", "4"] }
}
`
	p := mustCompile(t, project{src: src, files: files})
	if b := p.Step("builder.b").Builder; len(b.Nodes) != 2 || b.MaxSolves != 2 || b.Endpoint != "" {
		t.Errorf("builder: %+v", b)
	}
	load := map[string]int{}
	for _, st := range p.Steps {
		if st.Build != nil {
			if st.Build.Node == "" || st.Build.Placement == "" {
				t.Errorf("%s is not placed", st.ID)
			}
			load[st.Build.Node]++
		}
	}
	if load["tcp://a:1"] != 2 || load["tcp://b:1"] != 2 {
		t.Errorf("four builds over two nodes: %v", load)
	}
}

// TestUnknownNameSuggestionIsStable: HCL suggests the first close
// function or variable name in map order, so "a()" read "Did you mean
// add?" in one run and "and?" in the next (found by comparing parallel and
// one-by-one evaluation). The suggestion is the closest name, every run.
func TestUnknownNameSuggestionIsStable(t *testing.T) {
	for _, tt := range []struct{ call, want string }{
		{"a()", `There is no function named "a". Did you mean "or"?`},
		{"upperr(\"x\")", `There is no function named "upperr". Did you mean "upper"?`},
		{"zzzzzz()", `There is no function named "zzzzzz".`},
		{"cal", `There is no variable named "cal". Did you mean "var"?`},
	} {
		for range 20 {
			_, diags := project{src: "target \"t\" {\n  tags = [" + tt.call + "]\n}\n"}.compile(t)
			if len(diags) != 1 || diags[0].Detail != tt.want {
				t.Fatalf("%s: %s, want %q", tt.call, describe(diags), tt.want)
			}
		}
	}
}
