package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fragmentMark, on the line before a ```hcl block, says the block is part
// of a spec (one block shown on its own): it is checked as HCL syntax
// only. Every other ```hcl block is a whole spec and must plan.
const fragmentMark = "<!-- fragment -->"

// snippet is one fenced block of a Markdown file.
type snippet struct {
	file, lang, body string
	line             int  // of the opening fence
	fragment         bool // marked as part of a spec
}

var fence = regexp.MustCompile("(?m)^```([a-z]*)[^\n]*\n")

// snippets reads every fenced block of a Markdown file, in order.
func snippets(t *testing.T, path string) []snippet {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	var out []snippet
	for pos := 0; ; {
		m := fence.FindStringSubmatchIndex(text[pos:])
		if m == nil {
			return out
		}
		start, bodyAt := pos+m[0], pos+m[1]
		end := strings.Index(text[bodyAt:], "\n```")
		if end < 0 {
			t.Fatalf("%s: a fence opened at line %d is never closed", path, lineOf(text, start))
		}
		before := strings.TrimRight(text[:start], "\n ")
		out = append(out, snippet{
			file: path, lang: text[pos+m[2] : pos+m[3]], body: text[bodyAt : bodyAt+end+1],
			line:     lineOf(text, start),
			fragment: strings.HasSuffix(before, fragmentMark),
		})
		pos = bodyAt + end + len("\n```")
	}
}

func lineOf(text string, offset int) int { return strings.Count(text[:offset], "\n") + 1 }

// TestDocSnippets: every HCL block in README.md and docs/ is checked. A
// whole spec is planned offline beside a Dockerfile with one RUN; when a
// ```text block starting with "$ bakeplan …" follows it, that command runs
// on the spec and every line the document shows must be in its output. A
// fragment must at least be valid HCL.
func TestDocSnippets(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append([]string{"../../README.md"}, files...)
	var whole, fragments, outputs int
	for _, file := range files {
		blocks := snippets(t, file)
		for i, s := range blocks {
			if s.lang != "hcl" {
				continue
			}
			name := fmt.Sprintf("%s:%d", filepath.Base(s.file), s.line)
			if s.fragment {
				fragments++
				if _, diags := hclsyntax.ParseConfig([]byte(s.body), name, hcl.InitialPos); diags.HasErrors() {
					t.Errorf("%s: the fragment is not valid HCL: %s", name, diags.Error())
				}
				continue
			}
			whole++
			args := []string{"plan", "--offline"}
			var shown string
			if i+1 < len(blocks) && blocks[i+1].lang == "text" && strings.HasPrefix(blocks[i+1].body, "$ bakeplan ") {
				first, rest, _ := strings.Cut(blocks[i+1].body, "\n")
				args, shown = strings.Fields(strings.TrimPrefix(first, "$ bakeplan ")), rest
				outputs++
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				writeFile(t, dir, "Dockerfile", "FROM busybox\nRUN true\n")
				spec := writeFile(t, dir, "bakeplan.hcl", s.body)
				out, errOut, code := bakeplan(t, append(args, "-f", spec)...)
				if code != 0 {
					t.Fatalf("%s, copied as shown (mark it %s if it is part of a spec): exit %d\n%s%s", name, fragmentMark, code, out, errOut)
				}
				for _, line := range strings.Split(shown, "\n") {
					if line = strings.TrimSpace(line); line != "" && !strings.Contains(out, line) {
						t.Errorf("%s shows %q, which bakeplan does not print:\n%s", name, line, out)
					}
				}
			})
		}
	}
	// The check must not pass by finding nothing.
	if whole < 3 || outputs < 1 || fragments < 1 {
		t.Errorf("found %d whole specs (%d with output) and %d fragments: is the fence syntax still ```hcl?", whole, outputs, fragments)
	}
}

// TestExamplesValidateAsShipped: every example validates as checked in,
// with nothing added (a release example ships its lock file), and every
// lock file is exactly what bakeplan lock would write.
func TestExamplesValidateAsShipped(t *testing.T) {
	specs, _ := filepath.Glob("../../examples/*/bakeplan.hcl")
	if len(specs) < 4 {
		t.Fatalf("found %d examples", len(specs))
	}
	for _, spec := range specs {
		t.Run(filepath.Base(filepath.Dir(spec)), func(t *testing.T) {
			// The epoch is given: "git" would depend on this checkout being clean.
			out, errOut, code := runWith(t, releaseEnv, "validate", "-f", spec)
			if code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			lock := filepath.Join(filepath.Dir(spec), "bakeplan.lock.hcl")
			data, err := os.ReadFile(lock)
			if os.IsNotExist(err) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l, diags := lockfile.Parse(lock, data)
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if got := string(l.Bytes()); got != string(data) {
				t.Errorf("%s is not as bakeplan lock writes it:\n%s", lock, got)
			}
		})
	}
}
