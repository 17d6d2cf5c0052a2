package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportGolden pins what import writes for each bake file of the
// compatibility corpus (testdata/import/CASE.golden) and what it says
// (CASE.stderr.golden): the translated spec, its "# bakeplan:" notes and
// the emulators it declares are a contract.
func TestImportGolden(t *testing.T) {
	cases, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.Name())
			if err := os.CopyFS(dir, os.DirFS(filepath.Join(corpus, c.Name()))); err != nil {
				t.Fatal(err)
			}
			// Without -f, as a user in the directory would: bake's
			// default files, an override file too.
			t.Chdir(dir)
			stdout, stderr, code := bakeplan(t, "import", "--native-platform", "linux/amd64")
			if code != 0 || stdout != "" {
				t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
			}
			specs := specNames("bakeplan.hcl", defaultBakeFiles())
			var got strings.Builder
			for _, spec := range specs {
				b, err := os.ReadFile(spec)
				if err != nil {
					t.Fatal(err)
				}
				if len(specs) > 1 {
					fmt.Fprintf(&got, "# ---- %s\n", spec)
				}
				got.Write(b)
			}
			t.Chdir(wd)
			goldenStreams(t, filepath.Join("import", c.Name()), got.String(), stderr)
			// What it wrote plans with no edit.
			args := []string{"validate"}
			for _, spec := range specs {
				args = append(args, "-f", filepath.Join(dir, spec))
			}
			if _, stderr, code := bakeplan(t, args...); code != 0 {
				t.Errorf("validate: exit %d\n%s", code, stderr)
			}
		})
	}
}

// TestImportRefusals: import names what it cannot do and writes nothing.
func TestImportRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, bake, want string }{
		{"not HCL", "target \"a\" {\n  tags = [\n", "Missing expression"},
		{"bad JSON", `{"target": {"a": {"tags": [}}}`, "Invalid JSON bake file"},
		{"JSON not an object", `["a"]`, "A bake file in JSON is an object"},
		{"duplicate blocks", "target \"a\" {}\ntarget \"a\" {}\n", "Block defined twice"},
		{"name no reference can write", "target \"1a\" {}\n", "Name bakeplan cannot refer to"},
		{"compose without services", "services: {}\nvolumes: {}\n", "Invalid compose file"},
		{"compose that does not parse", "services:\n  web:\n    build: [\n", "Invalid compose file"},
		{"compose external secret", "services:\n  web:\n    build:\n      context: .\n      secrets: [s]\nsecrets:\n  s:\n    external: true\n", "external"},
	} {
		name := "docker-bake.hcl"
		switch {
		case strings.HasPrefix(tc.bake, "{") || strings.HasPrefix(tc.bake, "["):
			name = "docker-bake.json"
		case strings.HasPrefix(tc.bake, "services"):
			name = "compose.yaml"
		}
		bake := writeFile(t, dir, name, tc.bake)
		out := filepath.Join(dir, "bakeplan.hcl")
		_, stderr, code := bakeplan(t, "import", "-f", bake, "-o", out)
		if code == 0 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, name+":") && !strings.Contains(stderr, "on "+bake) {
			t.Errorf("%s: exit %d, stderr:\n%s", tc.name, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: wrote %s", tc.name, out)
			os.Remove(out)
		}
	}
	// An existing spec is not replaced without --force.
	bake := writeFile(t, dir, "docker-bake.hcl", "target \"a\" {}\n")
	out := writeFile(t, dir, "mine.hcl", "# mine\n")
	if _, stderr, code := bakeplan(t, "import", "-f", bake, "-o", out); code == 0 || !strings.Contains(stderr, "--force") {
		t.Errorf("existing output: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "# mine\n" {
		t.Errorf("existing output replaced: %q", b)
	}
}
