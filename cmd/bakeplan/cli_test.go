package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// bakeplan runs the CLI in-process as a user would, with a fixed native
// platform so that the output does not depend on the machine.
func bakeplan(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runWith(t, []string{"BAKEPLAN_VAR_UNUSED=1"}, args...)
}

func runWith(t *testing.T, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	args = fixedPlatform(args)
	code = run(context.Background(), args, streams{in: strings.NewReader(""), out: &out, err: &errb}, environ)
	return out.String(), errb.String(), code
}

// fixedPlatform adds --native-platform linux/amd64 to a verb that reads the
// spec, so that output does not depend on the machine.
func fixedPlatform(args []string) []string {
	if len(args) > 0 && slices.Contains([]string{"validate", "plan", "graph", "apply", "diff", "lock"}, args[0]) {
		return append([]string{args[0], "--native-platform", "linux/amd64"}, args[1:]...)
	}
	return args
}

// writeFile writes body to dir/name, making the directories it needs, and
// returns its path.
func writeFile(t testing.TB, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/bakeplan -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// goldenStreams pins both streams of a command: stdout in NAME.golden and
// stderr in NAME.stderr.golden, where no file means stderr must be empty
// (warnings are output too, and a new one must show up in review).
func goldenStreams(t *testing.T, name, stdout, stderr string) {
	t.Helper()
	golden(t, name, stdout)
	path := filepath.Join("testdata", name+".stderr.golden")
	if *update {
		if stderr == "" {
			os.Remove(path)
			return
		}
		golden(t, name+".stderr", stderr)
		return
	}
	if _, err := os.Stat(path); err != nil && stderr == "" {
		return
	}
	golden(t, name+".stderr", stderr)
}

// releaseExample is examples/release copied with a lock file of made-up
// digests (testdata/release.lock.hcl): it is a release, which refuses
// unpinned images, and its real lock needs Docker Hub. Plans of it run
// with releaseEnv, as the copy is in no git repository.
func releaseExample(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "release")
	if err := os.CopyFS(dir, os.DirFS("../../examples/release")); err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile("testdata/release.lock.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bakeplan.lock.hcl"), lock, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "bakeplan.hcl")
}

var releaseEnv = []string{"SOURCE_DATE_EPOCH=1700000000"}

func TestGolden(t *testing.T) {
	release := releaseExample(t)
	tests := []struct {
		name string
		args []string
	}{
		{"plan-hello", []string{"plan", "--offline", "-f", "../../examples/hello/bakeplan.hcl"}},
		{"plan-browser-base", []string{"plan", "--offline", "-f", "../../examples/browser-base/bakeplan.hcl"}},
		{"plan-release", []string{"plan", "--offline", "-f", release, "--var", "VERSION=v1.2.3"}},
		{"plan-hello-json", []string{"plan", "--offline", "--json", "-f", "../../examples/hello/bakeplan.hcl"}},
		{"graph-browser-base-dot", []string{"graph", "-f", "../../examples/browser-base/bakeplan.hcl"}},
		{"graph-release-mermaid", []string{"graph", "--format", "mermaid", "-f", release}},
		{"validate-release", []string{"validate", "-f", release}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runWith(t, append([]string{"BAKEPLAN_VAR_UNUSED=1"}, releaseEnv...), tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			goldenStreams(t, tt.name, out, errOut)
		})
	}
}

func TestDiagnosticsOutput(t *testing.T) {
	out, errOut, code := bakeplan(t, "validate", "-f", "testdata/broken.hcl")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	goldenStreams(t, "validate-broken", out, errOut)
}

func TestPlanOutFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "release.plan.json")
	_, errOut, code := bakeplan(t, "plan", "--offline", "-f", "../../examples/hello/bakeplan.hcl", "-out", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	saved, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Unmarshal(saved); err != nil {
		t.Errorf("the saved plan does not load: %v", err)
	}
	js, _, _ := bakeplan(t, "plan", "--offline", "--json", "-f", "../../examples/hello/bakeplan.hcl")
	if js != string(saved) {
		t.Errorf("-out and --json differ")
	}
	// A failing plan leaves an existing plan file alone.
	_, _, code = bakeplan(t, "plan", "--offline", "-f", "testdata/broken.hcl", "-out", file)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	after, _ := os.ReadFile(file)
	if !bytes.Equal(saved, after) {
		t.Errorf("a failed plan changed the plan file")
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"plan", "-f", "nope.hcl"}, "reading the spec"},
		{[]string{"plan", "-f", "/nonexistent/dir/bakeplan.hcl"}, "reading the spec /nonexistent/dir/bakeplan.hcl: no such file"},
		{[]string{"bogus"}, "Run 'bakeplan --help' for usage."},
		{[]string{"plan", "--bogus"}, "Run 'bakeplan plan --help' for usage."},
		{[]string{"host", "uninstal", "arm64"}, `unknown command "uninstal"`},
		{[]string{"host"}, "needs a command"},
		{[]string{"apply", "--progress", "bogus", "-f", "nope.hcl"}, "--progress is one of"},
		{[]string{"apply", "--parallelism", "-3", "-f", "nope.hcl"}, "--parallelism is 0"},
		{[]string{"validate", "--probe-registry-writes"}, "unknown flag"},
		{[]string{"graph", "--docker-config", "x"}, "unknown flag"},
		{[]string{"version", "-f", "x.hcl"}, "unknown shorthand flag"},
		{[]string{"graph", "--format", "png", "-f", "../../examples/hello/bakeplan.hcl"}, "--format is dot or mermaid"},
		{[]string{"validate", "extra"}, "unknown command"},
		{[]string{"plan", "--offline", "nosuchtarget", "-f", "../../examples/hello/bakeplan.hcl"}, "Unknown target or group"},
		{[]string{"plan", "--offline", "-f", "../../examples/hello/bakeplan.hcl", "-f", "override.hcl"}, "reading the spec override.hcl: no such file"},
	}
	for _, tt := range tests {
		_, errOut, code := bakeplan(t, tt.args...)
		if code != 1 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, verb := range []string{"validate", "plan", "graph"} {
		out, _, code := bakeplan(t, verb, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help: exit %d, no examples:\n%s", verb, code, out)
		}
	}
}

// TestDryRunGolden pins what apply --dry-run prints: it is the contract of
// what apply sends. Absolute paths are replaced by $SPEC_DIR.
func TestDryRunGolden(t *testing.T) {
	dir, err := filepath.Abs("../../examples/hello")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"BUILDKIT_HOST=unix:///run/buildkit/buildkitd.sock"}
	out, errOut, code := runWith(t, env, "apply", "--dry-run", "--offline", "-f", "../../examples/hello/bakeplan.hcl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	goldenStreams(t, "apply-dry-run-hello", strings.ReplaceAll(out, dir, "$SPEC_DIR"), errOut)
}

// TestPlanOutInsideContext: -out naming a file a build context includes is
// refused before anything is written, so an existing file there is kept as
// it was; a directory is refused with no temporary file left anywhere.
func TestPlanOutInsideContext(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "bakeplan.hcl")
	write := func(name, body string) { t.Helper(); writeFile(t, dir, name, body) }
	write("bakeplan.hcl", "target \"app\" {\n  platforms = [\"linux/amd64\"]\n}\n")
	write("Dockerfile", "FROM scratch\n")
	write("notes.txt", "precious\n")
	if err := os.Mkdir(filepath.Join(dir, "plans"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "notes.txt"), filepath.Join(out, "via-link.json")); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{
		filepath.Join(dir, "notes.txt"),     // an existing file in the context
		filepath.Join(dir, "new.plan.json"), // a new one
		filepath.Join(out, "via-link.json"), // a link into the context
		filepath.Join(dir, "plans"),         // a directory
	} {
		_, errOut, code := bakeplan(t, "plan", "--offline", "-f", spec, "-out", target)
		if code != 1 {
			t.Errorf("-out %s: exit %d, want 1 (%s)", target, code, errOut)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(b) != "precious\n" {
		t.Errorf("notes.txt is now %q", b)
	}
	for _, d := range []string{dir, out, filepath.Join(dir, "plans")} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			switch e.Name() {
			case "bakeplan.hcl", "Dockerfile", "notes.txt", "plans", "via-link.json":
			default:
				t.Errorf("%s left in %s", e.Name(), d)
			}
		}
	}
	// Ignored by .dockerignore: allowed.
	write(".dockerignore", "*.plan.json\n")
	if _, errOut, code := bakeplan(t, "plan", "--offline", "-f", spec, "-out", filepath.Join(dir, "new.plan.json")); code != 0 {
		t.Errorf("an ignored plan file: exit %d: %s", code, errOut)
	}
}

// TestSensitiveNotInSourceSnippets: the lines a diagnostic quotes from a
// variable file mask sensitive values; a variable file that does not parse
// is not quoted at all when the spec has sensitive variables.
func TestSensitiveNotInSourceSnippets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string { t.Helper(); return writeFile(t, dir, name, body) }
	spec := write("bakeplan.hcl", "variable \"N\" {\n  type = number\n  sensitive = true\n  default = 1\n}\ntarget \"a\" {\n}\n")
	write("Dockerfile", "FROM scratch\n")
	for _, body := range []string{"N = \"hunter3-xyz\"\n", "N = hunter3-xyz +\n"} {
		vf := write("vars.hcl", body)
		_, errOut, code := bakeplan(t, "validate", "-f", spec, "--var-file", vf)
		if code != 1 {
			t.Errorf("%q: exit %d", body, code)
		}
		if strings.Contains(errOut, "hunter3") || !strings.Contains(errOut, "vars.hcl line 1") {
			t.Errorf("%q:\n%s", body, errOut)
		}
	}
}

// TestGarbageInputIsBounded: random bytes give a bounded number of
// diagnostics and say how many more there were.
func TestGarbageInputIsBounded(t *testing.T) {
	garbage := make([]byte, 100_000)
	seed := uint32(1)
	for i := range garbage {
		seed = seed*1664525 + 1013904223
		garbage[i] = byte(seed >> 24)
	}
	path := filepath.Join(t.TempDir(), "bakeplan.hcl")
	if err := os.WriteFile(path, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := bakeplan(t, "validate", "-f", path)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	if n := strings.Count(errOut, "\nError: ") + strings.Count(errOut[:min(len(errOut), 7)], "Error: "); n > 20 {
		t.Errorf("%d diagnostics printed", n)
	}
	if !strings.Contains(errOut, "more diagnostic(s) not shown") {
		t.Errorf("no note of the rest:\n%s", errOut[max(0, len(errOut)-500):])
	}
}

// TestInterruptWritesNothing: a command whose context is done (Ctrl-C,
// SIGTERM) exits non-zero and writes no plan file.
func TestInterruptWritesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "p.json")
	imported := filepath.Join(t.TempDir(), "bakeplan.hcl")
	for _, args := range [][]string{
		{"validate", "-f", "../../examples/hello/bakeplan.hcl"},
		{"plan", "--offline", "-f", "../../examples/hello/bakeplan.hcl", "-out", out},
		{"import", "-f", "../../testdata/bakecorpus/matrix/docker-bake.hcl", "-o", imported},
	} {
		var o, e bytes.Buffer
		code := run(ctx, fixedPlatform(args), streams{in: strings.NewReader(""), out: &o, err: &e}, nil)
		if code == 0 || !strings.Contains(strings.ToLower(e.String()), "interrupted") {
			t.Errorf("%v: exit %d, stderr %q", args, code, e.String())
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a plan file was written: %v", err)
	}
	if _, err := os.Stat(imported); !os.IsNotExist(err) {
		t.Errorf("an imported spec was written: %v", err)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _, code := bakeplan(t, args...)
		if code != 0 || !strings.HasPrefix(out, "bakeplan ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

// TestColor: colour only on a terminal, never with NO_COLOR or --no-color.
// /dev/null is a character device, not a terminal.
func TestColor(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	if isTerminal(devnull) {
		t.Errorf("/dev/null counts as a terminal")
	}
	g := &globals{environ: []string{"NO_COLOR=1"}}
	if g.color(devnull) {
		t.Errorf("colour with NO_COLOR")
	}
}

// TestCompletion completes target and group names and enum flag values.
func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "plan", "-f", "../../examples/release/bakeplan.hcl", ""}, []string{"cli\ttarget", "release\tgroup", "server\ttarget"}},
		{[]string{"__complete", "apply", "--progress", ""}, []string{"auto", "plain", "quiet"}},
		{[]string{"__complete", "graph", "--format", ""}, []string{"dot", "mermaid"}},
		{[]string{"__complete", "diff", "--format", ""}, []string{"markdown", "json"}},
	}
	for _, tt := range tests {
		out, errOut, code := bakeplan(t, tt.args...)
		for _, w := range tt.want {
			if code != 0 || !strings.Contains(out, w+"\n") {
				t.Errorf("%v: exit %d, no %q in:\n%s%s", tt.args, code, w, out, errOut)
			}
		}
	}
}

// TestJSONDiagnostics: with --json, problems are JSON on stdout too, so a
// pipeline into jq sees them; stderr stays empty.
func TestJSONDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"validate-broken-json", []string{"validate", "--json", "-f", "testdata/broken.hcl"}, 1},
		{"validate-release-json", []string{"validate", "--json", "-f", releaseExample(t)}, 0},
		{"plan-broken-json", []string{"plan", "--offline", "--json", "-f", "testdata/broken.hcl"}, 1},
		{"plan-missing-json", []string{"plan", "--offline", "--json", "-f", "testdata/missing.hcl"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := runWith(t, releaseEnv, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out)
			}
			goldenStreams(t, tt.name, out, errOut)
		})
	}
}

// TestSelectionInEveryVerb: targets are selected the same way in plan,
// graph, apply and diff: --target in all of them, and as arguments where
// the verb takes no other arguments.
func TestSelectionInEveryVerb(t *testing.T) {
	spec := releaseExample(t)
	for _, args := range [][]string{
		{"plan", "--offline", "cli-community", "-f", spec},
		{"plan", "--offline", "--target", "cli-community", "-f", spec},
		{"graph", "cli-community", "-f", spec},
		{"graph", "--target", "cli-community", "-f", spec},
		{"apply", "--offline", "--dry-run", "cli-community", "-f", spec},
		{"apply", "--offline", "--dry-run", "--target", "cli-community", "-f", spec},
		{"diff", spec, spec, "--target", "cli-community", "--format", "json"},
	} {
		out, errOut, code := runWith(t, releaseEnv, args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
			continue
		}
		if args[0] == "diff" {
			continue // no change, so nothing to name; the selection must only be accepted
		}
		if !strings.Contains(out, "build.cli-community") || strings.Contains(out, "build.server") || strings.Contains(out, "build.cli-enterprise") {
			t.Errorf("%v selected other targets:\n%s", args, out)
		}
	}
}

// TestPlanGoldens pins what plan --offline says of lock files and
// releases: a malformed lock file is an error at its own line and nothing
// is planned; a pin that lacks a platform the builds pull is a warning at
// the pin; a release refuses every unpinned image at the line that names it
// (the # syntax= line, the FROM, the contexts entry), not for a target that
// opts out, and locked it plans with its epoch and attestations.
func TestPlanGoldens(t *testing.T) {
	for _, tc := range []struct {
		golden, spec string
		code         int
	}{
		{"plan-lock-broken", "testdata/lock-broken/bakeplan.hcl", 1},
		{"plan-lock-gap", "testdata/lock-gap/bakeplan.hcl", 0},
		{"plan-release-unpinned", "testdata/release-unpinned/bakeplan.hcl", 1},
		{"plan-release-locked", "testdata/release-locked/bakeplan.hcl", 0},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := bakeplan(t, "plan", "--offline", "-f", tc.spec)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			goldenStreams(t, tc.golden, out, errOut)
		})
	}
}

// TestLockWritesNothingOnError: when a reference cannot be resolved, lock
// fails, names it, and leaves the lock file as it was.
func TestLockWritesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"bakeplan.hcl":      "target \"app\" {}\n",
		"Dockerfile":        "FROM 127.0.0.1:1/unreachable:v1\n",
		"bakeplan.lock.hcl": "image \"127.0.0.1:1/old:v1\" {\n  digest = \"sha256:" + strings.Repeat("1", 64) + "\"\n}\n",
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, errOut, code := bakeplan(t, "lock", "-f", filepath.Join(dir, "bakeplan.hcl"))
	if code != 1 || !strings.Contains(errOut, "127.0.0.1:1/unreachable:v1") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "bakeplan.lock.hcl")); string(b) != files["bakeplan.lock.hcl"] {
		t.Errorf("the lock file changed:\n%s", b)
	}
	if _, errOut, code := bakeplan(t, "lock", "golang:1.26", "-f", filepath.Join(dir, "bakeplan.hcl")); code != 1 || !strings.Contains(errOut, "only with -upgrade") {
		t.Errorf("a reference without -upgrade: exit %d\n%s", code, errOut)
	}
}

// TestDockerfileDiagnostics pins what the Dockerfile checks say: an unknown
// stage at the spec's target attribute, unused build args and contexts at
// theirs, and lint findings at the Dockerfile's own lines (skipped rules
// left out); --strict makes lint findings errors.
func TestDockerfileDiagnostics(t *testing.T) {
	spec := "testdata/dockerfile-checks/bakeplan.hcl"
	out, errOut, code := bakeplan(t, "validate", "-f", spec)
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	goldenStreams(t, "validate-dockerfile-checks", out, errOut)
	// A RUN on a foreign platform with no emulator: the error names it.
	out, errOut, code = bakeplan(t, "validate", "-f", "testdata/dockerfile-emulation/bakeplan.hcl")
	if code != 1 {
		t.Errorf("exit %d", code)
	}
	goldenStreams(t, "validate-dockerfile-emulation", out, errOut)
	_, errOut, code = bakeplan(t, "validate", "--strict", "-f", spec)
	if code != 1 || !strings.Contains(errOut, "Error: Dockerfile lint: MaintainerDeprecated") || strings.Contains(errOut, "JSONArgsRecommended") {
		t.Errorf("--strict: exit %d\n%s", code, errOut)
	}
}

// TestSpecFilesMerge: -f given again lays files on the spec as bake does:
// same-named blocks merge attribute by attribute, the later file winning,
// with args and labels merged key by key; bakeplan.override.hcl is read
// beside the default spec; a problem in an override names that file; a
// saved plan records its overrides and goes stale when one changes.
func TestSpecFilesMerge(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) { t.Helper(); writeFile(t, dir, name, body) }
	write("Dockerfile", "FROM scratch\nARG A B C\n")
	write("bakeplan.hcl", `variable "TAG" {
  default = "1"
}
target "app" {
  args      = { A = "base", B = "base" }
  labels    = { team = "core" }
  tags      = ["r.example.com/app:${var.TAG}"]
  platforms = ["linux/amd64"]
}
`)
	write("bakeplan.override.hcl", `variable "TAG" {
  default = "2"
}
target "app" {
  args      = { B = "override", C = "override" }
  platforms = ["linux/amd64", "linux/arm64"]
}
target "extra" {
  dockerfile_inline = "FROM scratch"
}
`)
	t.Chdir(dir)
	check := func(args ...string) {
		t.Helper()
		out, errOut, code := bakeplan(t, append([]string{"plan", "--offline", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		var p plan.Plan
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatal(err)
		}
		b := p.Step("build.app").Build
		if fmt.Sprint(b.Args) != "map[A:base B:override C:override]" || b.Labels["team"] != "core" ||
			fmt.Sprint(b.Tags) != "[docker.io/r.example.com/app:2]" && fmt.Sprint(b.Tags) != "[r.example.com/app:2]" || len(b.Platforms) != 2 || p.Step("build.extra") == nil {
			t.Errorf("%v: merged wrongly: args %v labels %v tags %v platforms %d", args, b.Args, b.Labels, b.Tags, len(b.Platforms))
		}
		if fmt.Sprint(p.Spec.Overrides) != "[bakeplan.override.hcl]" {
			t.Errorf("%v: overrides recorded %v", args, p.Spec.Overrides)
		}
	}
	check()                                                    // the default override
	check("-f", "bakeplan.hcl", "-f", "bakeplan.override.hcl") // named

	write("broken.hcl", "target \"app\" {\n  platforms = [\"linux/bogus\"]\n}\n")
	_, errOut, code := bakeplan(t, "plan", "--offline", "-f", "bakeplan.hcl", "-f", "broken.hcl")
	if code != 1 || !strings.Contains(errOut, "on broken.hcl line 2") {
		t.Errorf("a problem in an override: exit %d\n%s", code, errOut)
	}

	planFile := filepath.Join(t.TempDir(), "p.json")
	if _, errOut, code := bakeplan(t, "plan", "--offline", "-out", planFile); code != 0 {
		t.Fatalf("plan -out: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := bakeplan(t, "apply", planFile, "--offline", "--dry-run"); code != 0 {
		t.Fatalf("applying the saved plan: exit %d\n%s", code, errOut)
	}
	write("bakeplan.override.hcl", "target \"app\" {\n  args = { C = \"changed\" }\n}\n")
	if _, errOut, code := bakeplan(t, "apply", planFile, "--offline", "--dry-run"); code != 1 || !strings.Contains(errOut, "stale") {
		t.Errorf("a changed override: exit %d\n%s", code, errOut)
	}
}

// TestSetRecordedInThePlan: --set is part of a plan's inputs: a saved plan
// records it and applies it again, and a --set given with a plan file is
// refused, as --var is.
func TestSetRecordedInThePlan(t *testing.T) {
	planFile := filepath.Join(t.TempDir(), "p.json")
	spec := "../../examples/hello/bakeplan.hcl"
	if _, errOut, code := bakeplan(t, "plan", "--offline", "-f", spec, "--set", "hello.args.EXTRA=1", "--set", "*.platforms=linux/amd64", "-out", planFile); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	data, _ := os.ReadFile(planFile)
	var p plan.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Set) != "[hello.args.EXTRA=1 *.platforms=linux/amd64]" || len(p.Step("build.hello").Build.Platforms) != 1 {
		t.Fatalf("the plan records %v, platforms %v", p.Set, p.Step("build.hello").Build.Platforms)
	}
	if _, errOut, code := bakeplan(t, "apply", planFile, "--offline", "--dry-run"); code != 0 {
		t.Fatalf("applying the saved plan: exit %d\n%s", code, errOut)
	}
	if _, errOut, code := bakeplan(t, "apply", planFile, "--offline", "--dry-run", "--set", "hello.args.EXTRA=2"); code != 1 || !strings.Contains(errOut, "--set cannot be given with a plan file") {
		t.Errorf("--set with a plan file: exit %d\n%s", code, errOut)
	}
}

// TestMetadataActionFile: the bake file docker/metadata-action writes
// (JSON, a target "docker-metadata-action" with tags, labels, annotations
// in bake's list form and args) is laid on the spec with -f and read by a
// target that inherits it, as bake users write.
func TestMetadataActionFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) { t.Helper(); writeFile(t, dir, name, body) }
	write("Dockerfile", "FROM scratch\nARG DOCKER_META_VERSION\n")
	write("bakeplan.hcl", `target "docker-metadata-action" {}
target "app" {
  inherits  = [target.docker-metadata-action]
  labels    = { team = "core" }
  platforms = ["linux/amd64", "linux/arm64"]
}
group "default" {
  targets = [target.app]
}
`)
	write("docker-metadata-action.json", `{
  "target": {
    "docker-metadata-action": {
      "tags": ["r.example.com/app:1.2.3", "r.example.com/app:latest"],
      "labels": {"org.opencontainers.image.version": "1.2.3"},
      "annotations": ["index:org.opencontainers.image.version=1.2.3", "manifest:org.opencontainers.image.version=1.2.3"],
      "args": {"DOCKER_META_VERSION": "1.2.3"}
    }
  }
}
`)
	out, errOut, code := bakeplan(t, "plan", "--offline", "--json", "-f", filepath.Join(dir, "bakeplan.hcl"), "-f", filepath.Join(dir, "docker-metadata-action.json"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	b := p.Step("build.app").Build
	got := fmt.Sprint(b.Tags, b.Labels, b.Annotations, b.Args)
	want := "[r.example.com/app:1.2.3 r.example.com/app:latest] map[org.opencontainers.image.version:1.2.3 team:core] map[index:org.opencontainers.image.version:1.2.3 manifest:org.opencontainers.image.version:1.2.3] map[DOCKER_META_VERSION:1.2.3]"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
