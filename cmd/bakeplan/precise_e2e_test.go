package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestPreciseInputsAgreeWithRebuild: a build's inputs cover only the
// context paths its Dockerfile reads (COPY sources, a glob, a bind mount).
// Each case changes one file of a pushed build; the plan's state must
// agree with what a forced rebuild on the real BuildKit gives: a file no
// instruction reads leaves it up to date and the image the same, a file a
// source, the glob or the mount reads makes it build. A false "up to date"
// fails; a needless rebuild is counted.
func TestPreciseInputsAgreeWithRebuild(t *testing.T) {
	env := testenv.Get(t)
	dp := &diffProject{t: t, env: env, dir: t.TempDir(), repo: fmt.Sprintf("%s/e2e-precise-%d", env.Registry, time.Now().UnixNano())}
	baseline := func() {
		t.Helper()
		os.RemoveAll(filepath.Join(dp.dir, "ctx"))
		dp.write("ctx/Dockerfile", "ARG BASE\nFROM ${BASE}\nCOPY src/ /src/\nCOPY *.txt /txt/\nRUN --mount=type=bind,source=tools,target=/t cat /t/tool.sh > /tool\n")
		dp.write("ctx/src/a.go", "package a\n")
		dp.write("ctx/src/sub/b.go", "package sub\n")
		dp.write("ctx/one.txt", "one\n")
		dp.write("ctx/tools/tool.sh", "echo tool\n")
		dp.write("ctx/docs/readme.md", "# docs\n")
		dp.write("ctx/other/x.bin", "x\n")
	}
	spec := writeFile(t, dp.dir, "bakeplan.hcl", testBlocks(env)+fmt.Sprintf(`target "app" {
  context   = "ctx"
  args      = { BASE = %q, SOURCE_DATE_EPOCH = "1700000000" }
  platforms = ["linux/amd64"]
  tags      = ["%s/app:1"]
  push      = true
  output    = [{ type = "registry", "rewrite-timestamp" = "true" }]
}
`, env.Base, dp.repo))
	baseline()
	if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec); code != 0 {
		t.Fatalf("baseline apply: exit %d\n%s", code, errOut)
	}
	want := dp.image("app", "1")
	out, _, _ := bakeplan(t, "plan", "-f", spec)
	if !strings.Contains(out, "reads of context ctx only: *.txt, src, tools") {
		t.Errorf("the plan does not say what the build reads:\n%s", out)
	}

	cases := []struct {
		name   string
		change func()
	}{
		{"a file no instruction reads edited", func() { dp.write("ctx/docs/readme.md", "# docs 2\n") }},
		{"a file no instruction reads added", func() { dp.write("ctx/other/y.bin", "y\n") }},
		{"a file outside the glob added", func() { dp.write("ctx/notes.md", "n\n") }},
		{"a COPY source file edited", func() { dp.write("ctx/src/a.go", "package a // 2\n") }},
		{"a file added under a COPY source", func() { dp.write("ctx/src/sub/c.go", "package sub\n") }},
		{"a file the glob matches edited", func() { dp.write("ctx/one.txt", "one 2\n") }},
		{"a file the glob matches added", func() { dp.write("ctx/two.txt", "two\n") }},
		{"the bind-mounted file edited", func() { dp.write("ctx/tools/tool.sh", "echo tool 2\n") }},
		{"a file added beside the bind-mounted one", func() { dp.write("ctx/tools/other.sh", "echo other\n") }},
		{"a link added under a COPY source", func() {
			if err := os.Symlink("../docs/readme.md", filepath.Join(dp.dir, "ctx/src/readme")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a COPY source made a link to its copy", func() {
			if err := os.Rename(filepath.Join(dp.dir, "ctx/src"), filepath.Join(dp.dir, "ctx/real")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("real", filepath.Join(dp.dir, "ctx/src")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a file the link's target holds edited", func() {
			os.Rename(filepath.Join(dp.dir, "ctx/src"), filepath.Join(dp.dir, "ctx/real"))
			os.Symlink("real", filepath.Join(dp.dir, "ctx/src"))
			dp.write("ctx/real/a.go", "package a // 3\n")
		}},
	}
	var needless []string
	for i, c := range cases {
		baseline()
		if st, why := dp.state(spec); st != "up-to-date" {
			t.Fatalf("before %q: the baseline is %s: %v", c.name, st, why)
		}
		c.change()
		st, why := dp.state(spec)
		probe := fmt.Sprintf("%s/app:probe-%d", dp.repo, i)
		if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "--rebuild", "--set", "app.tags="+probe, "-f", spec); code != 0 {
			t.Fatalf("%s: forced rebuild: exit %d\n%s", c.name, code, errOut)
		}
		changed := dp.image("app", fmt.Sprintf("probe-%d", i)) != want
		switch {
		case changed && st != "build":
			t.Errorf("%s: the plan says %s, but a rebuild gives another image", c.name, st)
		case !changed && st == "build":
			needless = append(needless, fmt.Sprintf("%s (%s)", c.name, strings.Join(why, "; ")))
		}
		t.Logf("%-45s plan %-10s image changed: %t", c.name, st, changed)
	}
	t.Logf("needless rebuilds: %d of %d cases", len(needless), len(cases))
	for _, n := range needless {
		t.Logf("  needless: %s", n)
	}
	// The three cases that read nothing must not be needless: that is the
	// point of precise inputs.
	for _, n := range needless {
		if strings.Contains(n, "no instruction reads") || strings.Contains(n, "outside the glob") {
			t.Errorf("a change to a file the build does not read rebuilds: %s", n)
		}
	}
}
