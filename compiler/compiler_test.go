package compiler_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// project is a spec and the files around it, compiled in memory.
type project struct {
	src      string
	files    map[string]string // relative to the spec's directory; nil gives a Dockerfile
	links    map[string]string // symbolic links: name (as in files) -> target
	vars     []string
	varFiles map[string]string
	environ  []string
	sel      []string
	sets     []string        // --set
	ctx      context.Context // nil: context.Background()
	strict   bool
	bakeEnv  bool
	warn     bool // WarnUnbuilt, as validate
}

func (p project) compile(t testing.TB) (*plan.Plan, hcl.Diagnostics) {
	t.Helper()
	fsys := fstest.MapFS{}
	files := p.files
	if files == nil {
		files = map[string]string{"Dockerfile": "FROM scratch\nRUN true\n"}
	}
	for name, body := range files {
		if strings.HasPrefix(name, "/") {
			fsys[strings.TrimPrefix(name, "/")] = &fstest.MapFile{Data: []byte(body)}
			continue
		}
		fsys["work/proj/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	for name, target := range p.links {
		f := &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink}
		if strings.HasPrefix(name, "/") {
			fsys[strings.TrimPrefix(name, "/")] = f
			continue
		}
		fsys["work/proj/"+name] = f
	}
	parser := hclparse.NewParser()
	s, diags := spec.Parse(parser, "bakeplan.hcl", []byte(p.src))
	var varFiles []hcl.Attributes
	for name, body := range p.varFiles {
		attrs, d := spec.ParseVarFile(parser, name, []byte(body))
		diags = append(diags, d...)
		varFiles = append(varFiles, attrs)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	ctx := p.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	opts := compiler.Options{
		FS:             fsys,
		SpecDir:        "work/proj",
		SpecFile:       "bakeplan.hcl",
		Vars:           p.vars,
		VarFiles:       varFiles,
		Environ:        p.environ,
		NativePlatform: platforms.MustParse("linux/amd64"),
		Select:         p.sel,
		Sets:           p.sets,
		BakeEnv:        p.bakeEnv,
		Lint:           true,
		Strict:         p.strict,
		WarnUnbuilt:    p.warn,
	}
	pl, d := compiler.Compile(ctx, s, opts)
	if p.ctx == nil && !strings.Contains(p.src, "timestamp(") {
		// Independent targets are evaluated on every core; one by one
		// must give the same plan and the same diagnostics, in order.
		again, err := spec.Parse(hclparse.NewParser(), "bakeplan.hcl", []byte(p.src))
		if err.HasErrors() {
			t.Fatal(err)
		}
		seq, seqDiags := compiler.Compile(ctx, again, compiler.Sequential(opts))
		sameCompile(t, pl, d, seq, seqDiags)
	}
	for _, x := range d {
		// The compiler lets expressions go once evaluated; reading one
		// again is its bug, whatever the spec.
		if strings.HasPrefix(x.Summary, "Internal error") {
			t.Errorf("%s: %s", x.Summary, x.Detail)
		}
	}
	return pl, append(diags, d...)
}

// sameCompile fails unless two compiles of one spec gave the same plan
// and the same diagnostics in the same order.
func sameCompile(t testing.TB, p1 *plan.Plan, d1 hcl.Diagnostics, p2 *plan.Plan, d2 hcl.Diagnostics) {
	t.Helper()
	line := func(d *hcl.Diagnostic) string {
		return fmt.Sprintf("%v %s: %s @%v %v", d.Severity, d.Summary, d.Detail, d.Subject, d.Context)
	}
	for i := range max(len(d1), len(d2)) {
		if i >= len(d1) || i >= len(d2) || line(d1[i]) != line(d2[i]) {
			t.Fatalf("diagnostics differ from one-by-one evaluation:\n%s\none by one:\n%s", describe(d1), describe(d2))
		}
	}
	if (p1 == nil) != (p2 == nil) {
		t.Fatalf("a plan only one way: %v against %v", p1 != nil, p2 != nil)
	}
	if p1 != nil {
		b1, err1 := plan.Marshal(p1)
		b2, err2 := plan.Marshal(p2)
		if err1 != nil || err2 != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("the plan differs from one-by-one evaluation (%v, %v)", err1, err2)
		}
	}
}

func errorsOf(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

// TestChecks runs every check the compiler makes against a spec that fails
// it, asserting the diagnostic's summary, line and, where it matters, detail.
func TestChecks(t *testing.T) {
	tests := []struct {
		name    string
		p       project
		summary string
		line    int    // 0: a diagnostic without a source range
		detail  string // a substring of the detail, when set
	}{
		{
			name:    "syntax error",
			p:       project{src: "target \"a\" {\n  platforms = [\"linux/amd64\"\n}\n"},
			summary: "Missing item separator",
			line:    3,
		},
		{
			name:    "unknown attribute with suggestion",
			p:       project{src: "target \"a\" {\n  platfroms = [\"linux/amd64\"]\n}\n"},
			summary: "Unsupported argument",
			line:    2,
			detail:  `Did you mean "platforms"?`,
		},
		{
			name:    "unknown block with suggestion",
			p:       project{src: "targte \"a\" {\n}\n"},
			summary: "Unsupported block type",
			line:    1,
			detail:  `Did you mean "target"?`,
		},
		{
			name:    "wrong type",
			p:       project{src: "target \"a\" {\n  push = \"very\"\n}\n"},
			summary: "Incorrect attribute value type",
			line:    2,
		},
		{
			name:    "wrong type in a list",
			p:       project{src: "target \"a\" {\n  platforms = [[\"linux/amd64\"]]\n}\n"},
			summary: "Incorrect attribute value type",
			line:    2,
		},
		{
			name:    "unknown target reference",
			p:       project{src: "target \"app\" {\n}\ntarget \"b\" {\n  depends_on = [target.apq]\n}\n"},
			summary: "Reference to undeclared target",
			line:    4,
			detail:  "Did you mean target.app?",
		},
		{
			name:    "unknown target in an attribute",
			p:       project{src: "target \"b\" {\n  platforms = target.nope.platforms\n}\n"},
			summary: "Reference to undeclared target",
			line:    2,
		},
		{
			name:    "unknown variable",
			p:       project{src: "variable \"VERSION\" {\n  default = \"1\"\n}\ntarget \"a\" {\n  tags = [\"r/a:${var.VERSON}\"]\n}\n"},
			summary: "Reference to undeclared input variable",
			line:    5,
			detail:  "Did you mean var.VERSION?",
		},
		{
			name:    "a variable where none is declared",
			p:       project{src: "target \"a\" {\n  tags = [\"r/a:${var.VERSION}\"]\n}\n"},
			summary: "Reference to undeclared input variable",
			line:    2,
			detail:  "Declare it with variable \"VERSION\" { ... }.",
		},
		{
			name:    "unknown local",
			p:       project{src: "locals {\n  x = local.y\n}\n"},
			summary: "Reference to undeclared local value",
			line:    2,
		},
		{
			name:    "invalid reference shape",
			p:       project{src: "target \"a\" {\n  depends_on = [\"a\"]\n}\n"},
			summary: "Invalid reference",
			line:    2,
		},
		{
			name:    "duplicate target",
			p:       project{src: "target \"a\" {\n}\n\ntarget \"a\" {\n}\n"},
			summary: `Duplicate target "a"`,
			line:    4,
		},
		{
			name:    "duplicate variable",
			p:       project{src: "variable \"X\" {\n}\nvariable \"X\" {\n}\n"},
			summary: `Duplicate variable "X"`,
			line:    3,
		},
		{
			name:    "duplicate host block",
			p:       project{src: "host {\n}\nhost {\n}\n"},
			summary: "Duplicate host block",
			line:    3,
		},
		{
			name: "cycle through contexts and depends_on",
			p: project{src: `target "a" {
  contexts = { b = target.b }
}
target "b" {
  depends_on = [target.c]
}
target "c" {
  depends_on = [target.a]
}
`},
			summary: "Dependency cycle",
			line:    2,
			detail:  "target.a -> (contexts) target.b -> (depends_on) target.c -> (depends_on) target.a",
		},
		{
			name:    "self dependency",
			p:       project{src: "target \"a\" {\n  depends_on = [target.a]\n}\n"},
			summary: "Dependency cycle",
			line:    2,
		},
		{
			name:    "cycle in attribute references",
			p:       project{src: "target \"a\" {\n  platforms = target.b.platforms\n}\ntarget \"b\" {\n  platforms = target.a.platforms\n}\n"},
			summary: "Cycle in target references",
			line:    1,
		},
		{
			name:    "cycle in locals",
			p:       project{src: "locals {\n  a = local.b\n  b = local.a\n}\n"},
			summary: "Cycle in local values",
			line:    2,
		},
		{
			name:    "cycle in groups",
			p:       project{src: "target \"a\" {\n}\ngroup \"x\" {\n  targets = [group.y]\n}\ngroup \"y\" {\n  targets = [group.x]\n}\n"},
			summary: "Cycle in groups",
			line:    3,
		},
		{
			name:    "invalid platform",
			p:       project{src: "target \"a\" {\n  platforms = [\"linux/amd64\",\n    \"linux/amd64/v2/x\"]\n}\n"},
			summary: "Invalid platform",
			line:    3,
		},
		{
			name:    "unknown architecture",
			p:       project{src: "target \"a\" {\n  platforms = [\"linux/amd46\"]\n}\n"},
			summary: "Invalid platform",
			line:    2,
			detail:  `did you mean "amd64"?`,
		},
		{
			name:    "invalid tag",
			p:       project{src: "target \"a\" {\n  tags = [\"registry.example.com/Team/app:1\"]\n}\n"},
			summary: "Invalid tag",
			line:    2,
			detail:  "must be lowercase",
		},
		{
			name:    "tag with a digest",
			p:       project{src: "target \"a\" {\n  tags = [\"r.example.com/app@sha256:" + strings.Repeat("a", 64) + "\"]\n}\n"},
			summary: "Invalid tag",
			line:    2,
		},
		{
			name:    "tag written by two targets",
			p:       project{src: "target \"a\" {\n  tags = [\"r.example.com/app:1\"]\n}\ntarget \"b\" {\n  tags = [\"r.example.com/app:1\"]\n}\n"},
			summary: "Tag written by two targets",
			line:    4,
		},
		{
			// linux/386 runs natively on amd64: its analysis finds no RUN
			// to emulate, which must not stand for linux/arm64's.
			name:    "emulation after a platform the builder runs itself",
			p:       project{src: "target \"a\" {\n  platforms = [\"linux/386\", \"linux/arm64\"]\n}\n"},
			summary: "No builder serves linux/arm64",
			line:    2,
		},
		{
			name:    "unknown call",
			p:       project{src: "target \"a\" {\n  call = \"chek\"\n}\n"},
			summary: "Unknown call",
			line:    2,
			detail:  `Did you mean "check"?`,
		},
		{
			name:    "tag written by two targets selected together",
			p:       project{src: "target \"a\" {\n  tags = [\"r.example.com/app:1\"]\n}\ntarget \"b\" {\n  tags = [\"r.example.com/app:1\"]\n}\n", sel: []string{"a", "b"}},
			summary: "Tag written by two targets",
			line:    4,
		},
		{
			name:    "missing context directory",
			p:       project{src: "target \"a\" {\n  context = \"nope\"\n}\n"},
			summary: "Context directory not found",
			line:    2,
		},
		{
			name:    "missing Dockerfile",
			p:       project{src: "target \"a\" {\n  context = \"sub\"\n}\n", files: map[string]string{"sub/x": ""}},
			summary: "Dockerfile not found",
			line:    1,
			detail:  `"sub/Dockerfile" (the default)`,
		},
		{
			name:    "missing named Dockerfile",
			p:       project{src: "target \"a\" {\n  dockerfile = \"build.Dockerfile\"\n}\n"},
			summary: "Dockerfile not found",
			line:    2,
		},
		{
			name:    "context outside the spec directory",
			p:       project{src: "target \"a\" {\n  context = \"../shared\"\n}\n", files: map[string]string{"/work/shared/Dockerfile": "FROM scratch\n"}},
			summary: "Path outside the spec's directory",
			line:    2,
		},
		{
			name:    "named context outside the spec directory",
			p:       project{src: "target \"a\" {\n  contexts = { x = \"../shared\" }\n}\n"},
			summary: "Path outside the spec's directory",
			line:    2,
		},
		{
			name: "variable validation",
			p: project{src: `variable "VERSION" {
  default = "banana"
  validation {
    condition     = can(regex("^v[0-9]+$", var.VERSION))
    error_message = "VERSION must look like v1."
  }
}
`},
			summary: `Invalid value for variable "VERSION"`,
			line:    4,
			detail:  "VERSION must look like v1.",
		},
		{
			name:    "required variable without value",
			p:       project{src: "variable \"TOKEN\" {\n}\n"},
			summary: `No value for required variable "TOKEN"`,
			line:    1,
		},
		{
			name:    "variable of the wrong type",
			p:       project{src: "variable \"N\" {\n  type = number\n  default = \"many\"\n}\n"},
			summary: `Invalid value for variable "N"`,
			line:    3,
		},
		{
			name:    "undeclared --var",
			p:       project{src: "variable \"VERSION\" {\n  default = \"\"\n}\n", vars: []string{"VERSON=1"}},
			summary: "Undeclared variable",
			detail:  `Did you mean "VERSION"?`,
		},
		{
			name:    "undeclared variable in a file",
			p:       project{src: "\n", varFiles: map[string]string{"vars.hcl": "\nNOPE = 1\n"}},
			summary: "Undeclared variable",
			line:    2,
		},
		{
			name:    "push without tags",
			p:       project{src: "target \"a\" {\n  push = true\n}\n"},
			summary: "Push without tags",
			line:    2,
		},
		{
			name:    "registry output without tags",
			p:       project{src: "target \"a\" {\n  output = [{ type = \"registry\" }]\n}\n"},
			summary: "Push without tags",
			line:    2,
		},
		{
			name:    "platform without builder or emulator",
			p:       project{src: "target \"a\" {\n  platforms = [\"linux/amd64\",\n    \"linux/arm64\"]\n}\n"},
			summary: "No builder serves linux/arm64",
			line:    3,
			detail:  `host.emulators does not list "arm64"`,
		},
		{
			name: "emulator does not help a remote builder",
			p: project{src: `host {
  emulators = ["arm64"]
}
builder "remote" {
  endpoint  = "tcp://builder:1234"
  platforms = ["linux/amd64"]
}
target "a" {
  platforms = ["linux/arm64"]
}
`},
			summary: "No builder serves linux/arm64",
			line:    9,
			detail:  "no local builder is declared that could run it under emulation",
		},
		{
			name: "pinned builder lacks the platform",
			p: project{src: `builder "default" {
}
builder "arm" {
  endpoint  = "ssh://me@arm"
  platforms = ["linux/arm64"]
}
target "a" {
  builder   = builder.arm
  platforms = ["linux/amd64"]
}
`},
			summary: "No builder serves linux/amd64",
			line:    9,
		},
		{
			name: "context target misses a platform",
			p: project{src: `host {
  emulators = ["arm64", "s390x"]
}
target "base" {
  platforms = ["linux/amd64", "linux/s390x"]
}
target "app" {
  contexts  = { base = target.base }
  platforms = ["linux/amd64", "linux/arm64"]
}
`},
			summary: "Context target misses platforms",
			line:    8,
			detail:  "target.base does not build linux/arm64",
		},
		{
			name: "context crosses builders",
			p: project{src: `builder "default" {
  platforms = ["linux/amd64"]
}
builder "other" {
  endpoint  = "unix:///run/other.sock"
  platforms = ["linux/amd64"]
}
target "base" {
  builder = builder.other
}
target "app" {
  contexts = { base = target.base }
}
`},
			summary: "Context crosses builders",
			line:    12,
		},
		{
			name: "multi-platform docker load without containerd store",
			p: project{src: `host {
  emulators = ["arm64"]
}
target "a" {
  platforms = ["linux/amd64", "linux/arm64"]
  output    = [{ type = "docker" }]
}
`},
			summary: "Multi-platform image loaded into Docker without the containerd image store",
			line:    6,
		},
		{
			name:    "remote builder without platforms",
			p:       project{src: "builder \"arm\" {\n  endpoint = \"tcp://10.0.0.2:1234\"\n}\n"},
			summary: "Remote builder without platforms",
			line:    1,
		},
		{
			name:    "invalid builder endpoint",
			p:       project{src: "builder \"b\" {\n  endpoint = \"tpc://host:1\"\n}\n"},
			summary: "Invalid builder endpoint",
			line:    2,
		},
		{
			name:    "tls on a unix endpoint",
			p:       project{src: "builder \"b\" {\n  endpoint = \"unix:///run/b.sock\"\n  tls {\n    ca_cert = \"ca.pem\"\n  }\n}\n"},
			summary: "TLS needs a tcp:// endpoint",
			line:    3,
		},
		{
			name:    "client certificate without key",
			p:       project{src: "builder \"b\" {\n  endpoint = \"tcp://b:1234\"\n  platforms = [\"linux/amd64\"]\n  tls {\n    cert = \"c.pem\"\n  }\n}\n"},
			summary: "Incomplete client certificate",
			line:    4,
		},
		{
			name:    "unknown emulator",
			p:       project{src: "host {\n  emulators = [\"arm46\"]\n}\n"},
			summary: "Unknown emulator",
			line:    2,
			detail:  `Did you mean "arm64"?`,
		},
		{
			name:    "invalid image store",
			p:       project{src: "host {\n  docker {\n    image_store = \"overlay2\"\n  }\n}\n"},
			summary: "Invalid image store",
			line:    3,
		},
		{
			name:    "invalid registry host",
			p:       project{src: "registry \"r\" {\n  host = \"https://r.example.com\"\n}\n"},
			summary: "Invalid registry host",
			line:    2,
		},
		{
			name:    "unknown builder reference",
			p:       project{src: "target \"a\" {\n  builder = builder.nope\n}\n"},
			summary: "Reference to undeclared builder",
			line:    2,
		},
		{
			name:    "reference to a matrix target where one is needed",
			p:       project{src: "target \"m\" {\n  matrix = { v = [\"x\", \"y\"] }\n}\ntarget \"a\" {\n  contexts = { m = target.m }\n}\n"},
			summary: "Reference to a matrix target",
			line:    5,
			detail:  "target.m-x, target.m-y",
		},
		{
			name:    "matrix names collide",
			p:       project{src: "target \"m\" {\n  matrix = { v = [\"x\", \"y\"] }\n  name = \"same\"\n}\n"},
			summary: `Duplicate target "same"`,
			line:    1,
		},
		{
			name:    "matrix that is not a map of lists",
			p:       project{src: "target \"m\" {\n  matrix = [\"x\"]\n}\n"},
			summary: "Invalid matrix",
			line:    2,
		},
		{
			name:    "recursive function",
			p:       project{src: "function \"f\" {\n  params = [x]\n  result = f(x)\n}\ntarget \"a\" {\n  tags = [f(\"r/a:1\")]\n}\n"},
			summary: "Error in function call",
			line:    6,
			detail:  "recursive",
		},
		{
			name:    "function shadows a built-in",
			p:       project{src: "function \"upper\" {\n  params = [x]\n  result = x\n}\n"},
			summary: "Function name already taken",
			line:    1,
		},
		{
			name:    "sensitive value in tags",
			p:       project{src: "variable \"T\" {\n  default = \"x\"\n  sensitive = true\n}\ntarget \"a\" {\n  tags = [\"r/a:${var.T}\"]\n}\n"},
			summary: "Sensitive value not allowed here",
			line:    6,
		},
		{
			name:    "sensitive registry host",
			p:       project{src: "variable \"R\" {\n  default = \"r.example.com\"\n  sensitive = true\n}\nregistry \"r\" {\n  host = split(\"/\", var.R)[0]\n}\n"},
			summary: "Sensitive value not allowed here",
			line:    6,
		},
		{
			name:    "sensitive builder endpoint",
			p:       project{src: "variable \"E\" {\n  default = \"tcp://b:1234\"\n  sensitive = true\n}\nbuilder \"b\" {\n  endpoint = var.E\n}\n"},
			summary: "Sensitive value not allowed here",
			line:    6,
		},
		{
			name:    "sensitive builder platforms",
			p:       project{src: "variable \"P\" {\n  default = \"linux/amd64\"\n  sensitive = true\n}\nbuilder \"b\" {\n  endpoint  = \"tcp://b:1234\"\n  platforms = [var.P]\n}\n"},
			summary: "Sensitive value not allowed here",
			line:    7,
		},
		{
			name:    "sensitive emulators",
			p:       project{src: "variable \"A\" {\n  default = [\"arm64\"]\n  sensitive = true\n}\nhost {\n  emulators = var.A\n}\n"},
			summary: "Sensitive value not allowed here",
			line:    6,
		},
		{
			name:    "sensitive tls path",
			p:       project{src: "variable \"K\" {\n  default = \"/k.pem\"\n  sensitive = true\n}\nbuilder \"b\" {\n  endpoint = \"tcp://b:1234\"\n  tls {\n    key = var.K\n  }\n}\n"},
			summary: "Sensitive value not allowed here",
			line:    8,
		},
		{
			name:    "sensitive image store",
			p:       project{src: "variable \"S\" {\n  default = \"containerd\"\n  sensitive = true\n}\nhost {\n  docker {\n    image_store = var.S\n  }\n}\n"},
			summary: "Sensitive value not allowed here",
			line:    7,
		},
		{
			name:    "two tls blocks",
			p:       project{src: "builder \"b\" {\n  endpoint = \"tcp://b:1234\"\n  tls {\n  }\n  tls {\n  }\n}\n"},
			summary: "Duplicate tls block",
			line:    5,
		},
		{
			name:    "two docker blocks",
			p:       project{src: "host {\n  docker {\n  }\n  docker {\n  }\n}\n"},
			summary: "Duplicate docker block",
			line:    4,
		},
		{
			name:    "dockerfile and dockerfile_inline",
			p:       project{src: "target \"a\" {\n  dockerfile = \"Dockerfile\"\n  dockerfile_inline = \"FROM scratch\"\n}\n"},
			summary: "Conflicting Dockerfile attributes",
			line:    3,
		},
		{
			name:    "unknown output type",
			p:       project{src: "target \"a\" {\n  output = [{ type = \"dcoker\" }]\n}\n"},
			summary: "Unknown output type",
			line:    2,
			detail:  `Did you mean "docker"?`,
		},
		{
			name:    "oci output without dest",
			p:       project{src: "target \"a\" {\n  output = [{ type = \"oci\" }]\n}\n"},
			summary: "Output without dest",
			line:    2,
		},
		{
			name:    "secret with both env and file",
			p:       project{src: "target \"a\" {\n  secret = [{ id = \"npm\", env = \"NPM_TOKEN\", file = \"~/.npmrc\" }]\n}\n"},
			summary: "Invalid secret",
			line:    2,
		},
		{
			name:    "invalid network",
			p:       project{src: "target \"a\" {\n  network = \"bridge\"\n}\n"},
			summary: "Invalid network mode",
			line:    2,
		},
		{
			name:    "invalid annotation prefix",
			p:       project{src: "target \"a\" {\n  annotations = { \"layer:x\" = \"y\" }\n}\n"},
			summary: "Invalid annotation key",
			line:    2,
		},
		{
			name:    "invalid named context scheme",
			p:       project{src: "target \"a\" {\n  contexts = { src = \"https://example.com/x.tar\" }\n}\n"},
			summary: "Unsupported named context",
			line:    2,
		},
		{
			name:    "invalid named image",
			p:       project{src: "target \"a\" {\n  contexts = { base = \"docker-image://Bad Image\" }\n}\n"},
			summary: "Invalid image reference",
			line:    2,
		},
		{
			name:    "unknown selection",
			p:       project{src: "target \"app\" {\n}\n", sel: []string{"apq"}},
			summary: "Unknown target or group",
			detail:  `Did you mean "app"?`,
		},
		{
			name:    "name without matrix",
			p:       project{src: "target \"a\" {\n  name = \"b\"\n}\n"},
			summary: "name without matrix",
			line:    2,
		},
		{
			name:    "invalid block name",
			p:       project{src: "target \"a b\" {\n}\n"},
			summary: "Invalid target name",
			line:    1,
		},
		{
			name:    "null platform from a variable",
			p:       project{src: "variable \"PLATFORM\" {\n  default = null\n}\ntarget \"a\" {\n  platforms = [var.PLATFORM]\n}\n"},
			summary: "Null platform",
			line:    5,
		},
		{
			name:    "an attribute reading itself",
			p:       project{src: "target \"a\" {\n  tags = target.a.tags\n}\n"},
			summary: "Attribute refers to itself",
			line:    2,
			detail:  "reads its own value",
		},
		{
			name:    "two attributes reading each other",
			p:       project{src: "target \"a\" {\n  target = target.a.network\n  network = target.a.target\n}\n"},
			summary: "Attribute refers to itself",
			line:    2,
		},
		{
			name:    "unknown output attribute",
			p:       project{src: "target \"a\" {\n  output = [{ type = \"oci\", dest = \"o.tar\", bogus = \"1\" }]\n}\n"},
			summary: "Unknown output attribute",
			line:    2,
		},
		{
			name:    "misspelt output attribute",
			p:       project{src: "target \"a\" {\n  output = [{ type = \"oci\", dest = \"o.tar\", compresion = \"zstd\" }]\n}\n"},
			summary: "Unknown output attribute",
			line:    2,
			detail:  `Did you mean "compression"?`,
		},
		{
			name:    "output name set by tags",
			p:       project{src: "target \"a\" {\n  output = [{ type = \"oci\", dest = \"a.tar\", name = \"x/y\" }]\n}\n"},
			summary: "Output attribute set elsewhere",
			line:    2,
		},
		{
			name:    "a local output",
			p:       project{src: "target \"a\" {\n  output = [{ type = \"local\" }]\n}\n"},
			summary: "Output without dest",
			line:    2,
			detail:  "A local output",
		},
		{
			name:    "windows cannot be emulated",
			p:       project{src: "host {\n  emulators = [\"arm64\"]\n}\ntarget \"a\" {\n  platforms = [\"windows/arm64\"]\n}\n"},
			summary: "No builder serves windows/arm64",
			line:    5,
			detail:  "only Linux platforms can be emulated",
		},
		{
			name:    "freebsd cannot be emulated",
			p:       project{src: "host {\n  emulators = [\"amd64\"]\n}\ntarget \"a\" {\n  platforms = [\"freebsd/amd64\"]\n}\n"},
			summary: "No builder serves freebsd/amd64",
			line:    5,
		},
		{
			name:    "darwin is a platform, built natively only",
			p:       project{src: "target \"a\" {\n  platforms = [\"darwin/arm64\"]\n}\n"},
			summary: "No builder serves darwin/arm64",
			line:    2,
		},
		{
			name:    "a bare variable name as bake writes it",
			p:       project{src: "variable \"GO_VERSION\" {\n  default = \"1\"\n}\ntarget \"a\" {\n  args = { V = GO_VERSION }\n}\n"},
			summary: "Unknown variable",
			line:    5,
			detail:  "Did you mean var.GO_VERSION?",
		},
		{
			name:    "bake's target: context string",
			p:       project{src: "target \"b\" {\n}\ntarget \"a\" {\n  contexts = { x = \"target:b\" }\n}\n"},
			summary: "Invalid named context",
			line:    4,
			detail:  "Did you mean target.b?",
		},
		{
			name:    "bake's semvercmp with a constraint that does not parse",
			p:       project{src: "target \"a\" {\n  args = { OK = semvercmp(\"1.2.3\", \"!!nonsense\") }\n}\n"},
			summary: "Invalid function argument",
			line:    2,
			detail:  "improper constraint",
		},
		{
			name:    "locals in a variable's validation",
			p:       project{src: "locals {\n  l = 1\n}\nvariable \"V\" {\n  default = 1\n  validation {\n    condition = local.l == 1\n    error_message = \"no\"\n  }\n}\n"},
			summary: "Unknown variable",
			line:    7,
			detail:  "resolved before locals",
		},
		{
			name:    "index annotation on one platform",
			p:       project{src: "target \"a\" {\n  platforms = [\"linux/amd64\"]\n  annotations = {\n    \"index:org.opencontainers.image.title\" = \"x\"\n  }\n}\n"},
			summary: "Index annotation on a single-platform build",
			line:    3,
		},
		{
			name: "context symlinked outside",
			p: project{
				src:   "target \"a\" {\n  context = \"ctx\"\n}\n",
				files: map[string]string{"/elsewhere/Dockerfile": "FROM scratch\n"},
				links: map[string]string{"ctx": "/elsewhere"},
			},
			summary: "Path outside the spec's directory",
			line:    2,
			detail:  "symbolic link",
		},
		{
			name: "context under a relative symlink outside",
			p: project{
				src:   "target \"a\" {\n  context = \"ctx/app\"\n}\n",
				files: map[string]string{"/work/elsewhere/app/Dockerfile": "FROM scratch\n"},
				links: map[string]string{"ctx": "../elsewhere"},
			},
			summary: "Path outside the spec's directory",
			line:    2,
		},
		{
			name: "Dockerfile symlinked outside",
			p: project{
				src:   "target \"a\" {\n  dockerfile = \"Dockerfile\"\n}\n",
				files: map[string]string{"/elsewhere/Dockerfile": "FROM scratch\n", "main.go": ""},
				links: map[string]string{"Dockerfile": "../../elsewhere/Dockerfile"},
			},
			summary: "Path outside the spec's directory",
			line:    2,
		},
		{
			name: "named context symlinked outside",
			p: project{
				src:   "target \"a\" {\n  contexts = {\n    src = \"src\"\n  }\n}\n",
				files: map[string]string{"Dockerfile": "FROM scratch\n", "/elsewhere/x": ""},
				links: map[string]string{"src": "/elsewhere"},
			},
			summary: "Path outside the spec's directory",
			line:    3,
		},
		{
			name: "a cycle of symlinks",
			p: project{
				src:   "target \"a\" {\n  context = \"l1\"\n}\n",
				links: map[string]string{"l1": "l2", "l2": "l1"},
			},
			summary: "Path cannot be resolved",
			line:    2,
		},
		{
			name:    "locals cannot read targets",
			p:       project{src: "target \"a\" {\n}\nlocals {\n  p = target.a.platforms\n}\n"},
			summary: "Invalid reference in a local value",
			line:    4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, diags := tt.p.compile(t)
			errs := errorsOf(diags)
			if len(errs) == 0 {
				t.Fatalf("no error; want %q", tt.summary)
			}
			if p != nil {
				t.Errorf("a plan came back despite errors")
			}
			var got *hcl.Diagnostic
			for _, d := range errs {
				if d.Summary == tt.summary {
					got = d
					break
				}
			}
			if got == nil {
				t.Fatalf("no diagnostic %q; got:\n%s", tt.summary, describe(errs))
			}
			line := 0
			if got.Subject != nil {
				line = got.Subject.Start.Line
			}
			if line != tt.line {
				t.Errorf("diagnostic %q at line %d, want %d (%s)", tt.summary, line, tt.line, got.Detail)
			}
			if tt.detail != "" && !strings.Contains(got.Detail, tt.detail) {
				t.Errorf("detail %q does not contain %q", got.Detail, tt.detail)
			}
		})
	}
}

func describe(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		line := 0
		if d.Subject != nil {
			line = d.Subject.Start.Line
		}
		b.WriteString("  " + d.Summary + " @" + itoa(line) + ": " + d.Detail + "\n")
	}
	return b.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

// TestAllErrorsReported checks that one run reports every independent
// problem, not just the first.
func TestAllErrorsReported(t *testing.T) {
	p := project{src: `target "a" {
  platforms = ["linux/amd46"]
}
target "b" {
  tags = ["Bad/Tag"]
}
target "c" {
  context = "missing"
}
`}
	_, diags := p.compile(t)
	errs := errorsOf(diags)
	want := map[string]int{"Invalid platform": 2, "Invalid tag": 5, "Context directory not found": 8}
	for _, d := range errs {
		if line, ok := want[d.Summary]; ok && d.Subject != nil && d.Subject.Start.Line == line {
			delete(want, d.Summary)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing diagnostics %v; got:\n%s", want, describe(errs))
	}
}

// TestLocalPlatform: local_platform(), bake's BAKE_LOCAL_PLATFORM, is the
// platform of the machine that plans.
func TestLocalPlatform(t *testing.T) {
	p, diags := project{src: "target \"a\" {\n  args = { PLAT = local_platform() }\n}\n", files: map[string]string{"Dockerfile": "FROM scratch\nARG PLAT\n"}}.compile(t)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := p.Step("build.a").Build.Args["PLAT"]; got != "linux/amd64" {
		t.Errorf("local_platform() = %q", got)
	}
}

// TestSinglePlatformContext: as in bake, a context target that builds one
// platform feeds every platform of its user.
func TestSinglePlatformContext(t *testing.T) {
	p, diags := project{src: `host {
  emulators = ["arm64"]
}
target "xx" {
  platforms = ["linux/amd64"]
}
target "app" {
  contexts  = { xx = target.xx }
  platforms = ["linux/amd64", "linux/arm64"]
}
`}.compile(t)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p.Step("build.app") == nil || p.Step("build.xx") == nil {
		t.Errorf("steps: %v", p.Steps)
	}
}

// TestGroupsResolvedWhenBuilt: a computed group is evaluated to names once
// variables are known; a group that holds an undefined target fails only
// the runs that build it (others see a warning).
func TestGroupsResolvedWhenBuilt(t *testing.T) {
	src := `variable "VERSIONS" {
  default = ["20", "22"]
}
target "node" {
  name   = "node-${v}"
  matrix = { v = var.VERSIONS }
}
target "other" {}
group "default" {
  targets = concat(["other"], [for v in var.VERSIONS : "node-${v}"])
}
group "later" {
  targets = [target.missing]
}
`
	p, diags := project{src: src}.compile(t)
	if diags.HasErrors() {
		t.Fatalf("the default run: %v", diags)
	}
	var warned bool
	for _, d := range diags {
		warned = warned || (d.Severity == hcl.DiagWarning && strings.Contains(d.Detail, "a run that builds it fails"))
	}
	if !warned {
		t.Errorf("no warning for the group that is not built: %v", diags)
	}
	for _, id := range []string{"build.other", "build.node-20", "build.node-22"} {
		if p.Step(id) == nil {
			t.Errorf("%s is not planned", id)
		}
	}
	if _, diags := (project{src: src, sel: []string{"later"}}).compile(t); !diags.HasErrors() {
		t.Errorf("building the group that holds an undefined target succeeded")
	}
}

// TestLazyBuildChecks: what only a build needs (its context, its
// Dockerfile, builders) is checked for the targets a run builds; another
// target's problems are left out of plan and are warnings for validate. A
// reference error is an error whatever is built.
func TestLazyBuildChecks(t *testing.T) {
	src := `target "a" {
  context = "a"
}
target "broken" {
  context   = "nowhere"
  platforms = ["linux/s390x"]
}
`
	files := map[string]string{"a/Dockerfile": "FROM scratch\n"}
	if _, diags := (project{src: src, files: files, sel: []string{"a"}}).compile(t); len(diags) > 0 {
		t.Errorf("plan a reports the target it does not build: %v", diags)
	}
	withDefault := src + "group \"default\" {\n  targets = [target.a]\n}\n"
	if _, diags := (project{src: withDefault, files: files}).compile(t); len(diags) > 0 {
		t.Errorf("the default group's plan reports a target it does not build: %v", diags)
	}
	_, diags := project{src: withDefault, files: files, warn: true}.compile(t)
	if diags.HasErrors() || len(diags) < 2 {
		t.Errorf("validate: want warnings for target.broken, got %v", diags)
	}
	for _, d := range diags {
		if !strings.Contains(d.Detail, "target.broken is not built") {
			t.Errorf("a warning that does not say the target is not built: %s", d.Detail)
		}
	}
	if _, diags := (project{src: src, files: files}).compile(t); !diags.HasErrors() {
		t.Errorf("a run of every target does not report target.broken")
	}
	bad := src + "target \"c\" {\n  inherits = [target.nope]\n}\n"
	if _, diags := (project{src: bad, files: files, sel: []string{"a"}}).compile(t); !diags.HasErrors() {
		t.Errorf("a reference error in a target not built is not an error")
	}
}

// TestTemplatePlatforms: a template that lists platforms no emulator
// serves (moby's _platforms) is never a build, so only the platforms of
// the targets that inherit it must be served.
func TestTemplatePlatforms(t *testing.T) {
	src := `host {
  emulators = ["arm64"]
}
target "_platforms" {
  platforms = ["linux/amd64", "linux/arm/v7", "linux/ppc64le"]
}
target "app" {
  inherits  = [target._platforms]
  platforms = ["linux/amd64", "linux/arm64"]
}
`
	for _, warn := range []bool{false, true} {
		p, diags := project{src: src, warn: warn}.compile(t)
		if len(diags) > 0 {
			t.Errorf("validate %t: %v", warn, diags)
			continue
		}
		if p.Step("build._platforms") != nil || p.Step("build.app") == nil {
			t.Errorf("the template is a build, or the target is not: %v", p.Steps)
		}
	}
}

// TestInheritedContexts: named contexts are inherited as bake merges
// them, key by key: a parent's context reaches its child (and the child's
// child), a later parent wins over an earlier one, the target's own over
// all, and a context chosen by a variable in a parent is evaluated there.
func TestInheritedContexts(t *testing.T) {
	src := `variable "PG" {
  default = "17"
}
target "s17" {}
target "other" {}
target "a" {
  contexts = { server = var.PG == "17" ? target.s17 : target.other, docs = "./docs" }
}
target "b" {
  contexts = { docs = "./b-docs" }
}
target "mid" {
  inherits = [target.a, target.b]
}
target "leaf" {
  inherits = [target.mid]
  contexts = { extra = target.other }
}
`
	files := map[string]string{"Dockerfile": "FROM scratch\n", "docs/x": "x", "b-docs/x": "x"}
	p, diags := project{src: src, files: files, sel: []string{"leaf"}}.compile(t)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	got := map[string]string{}
	for _, nc := range p.Step("build.leaf").Build.Contexts {
		got[nc.Name] = nc.Target + nc.Path
	}
	want := map[string]string{"server": "s17", "docs": "b-docs", "extra": "other"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("context %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if p.Step("build.s17") == nil {
		t.Errorf("the inherited context target is not planned")
	}
}
