package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/osfs"
	"github.com/bakeplan/bakeplan/internal/testenv"
)

// listScript lists /ctx one entry a line, as the test compares it: path,
// type, permission bits in octal, and a file's SHA-256 or a link's target.
const listScript = `cd /ctx && find . -mindepth 1 | sort | while IFS= read -r f; do p=${f#./}; ` +
	`if [ -L "$f" ]; then echo "$p l $(readlink "$f")"; ` +
	`elif [ -d "$f" ]; then echo "$p/ d $(stat -c %a "$f")"; ` +
	`elif [ -p "$f" ]; then echo "$p p $(stat -c %a "$f")"; ` +
	`elif [ -f "$f" ]; then echo "$p f $(stat -c %a "$f") $(sha256sum < "$f" | cut -d" " -f1)"; fi; done > /listing`

// contextTree is the context every case starts from: names that ignore
// rules treat differently, modes COPY keeps, links, a pipe and an empty
// directory.
func contextTree(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{
		"a.txt": "a", "b.md": "b", ".hidden": "h", "Dockerfile": "FROM scratch\n", "sp ace.txt": "s",
		"dir1/f1.txt": "f1", "dir1/f2.md": "f2", "dir1/sub/g.txt": "g", "dir1/sub/deep/h.txt": "h",
		"dir2/x": "x", "dir2/y.txt": "y", "node_modules/m/index.js": "m", "vendor/v.go": "v",
		"build/out.o": "o", "build/keep.o": "k", "docs/readme.md": "r", "rules/ignore": "*.md\n",
		"sg/in.txt": "i",
	}
	for n, b := range files {
		writeFile(t, dir, n, b+"\n")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(filepath.Join(dir, "b.md"), 0o600))
	must(os.Chmod(filepath.Join(dir, "dir2/x"), 0o755))
	must(os.Chmod(filepath.Join(dir, "dir2/y.txt"), 0o640))
	must(os.Chmod(filepath.Join(dir, "sg"), 0o755|os.ModeSetgid))
	must(os.Symlink("a.txt", filepath.Join(dir, "link")))
	must(os.Symlink("dir1", filepath.Join(dir, "dlink")))
	must(os.Symlink("missing", filepath.Join(dir, "dangling")))
	must(os.Mkdir(filepath.Join(dir, "empty"), 0o755))
	must(syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
}

// ignoreCases are .dockerignore files (after moby's patternmatcher tests
// and BuildKit's fsutil filter tests): negations, **, a leading /,
// trailing spaces and slashes, comments, rules that exclude the
// Dockerfile or the ignore file itself, excluded directories with files
// included again, and rule order.
var ignoreCases = []string{
	"",
	"*.md",
	"**/*.md",
	"dir1",
	"dir1/",
	"/dir1",
	"dir1/*",
	"dir1/**",
	"dir1\n!dir1/sub",
	"dir1\n!dir1/sub/deep/h.txt",
	"*\n!a.txt",
	"*\n!dir1",
	"*\n!dir1/sub/g.txt",
	"**\n!**/*.txt",
	"# a comment\na.txt",
	"a.txt   ",
	"   a.txt",
	"dir1/sub/",
	"./a.txt",
	"dir?",
	"dir[12]",
	"d*/sub",
	"**/deep",
	"node_modules\nvendor",
	"build\n!build/keep.o",
	"build/*.o\n!build/keep.o",
	"dir1\n!dir1/f1.txt\ndir1",
	"!a.txt",
	"*.txt\n!dir1/*.txt",
	".hidden",
	".*",
	"link",
	"dlink",
	"dangling",
	"empty",
	"pipe",
	"Dockerfile",
	"**",
	"dir1/**/*.txt",
	"**/sub/**",
	"sp ace.txt",
	"dir2/\n!dir2/x",
	".dockerignore",
	"*\n!.dockerignore",
	"sg",
	"sg/*",
	"../a.txt",
	"dir1/../a.txt",
}

// TestContextAsBuildKitReceivesIt builds, on the real BuildKit, a listing
// of each context as COPY receives it (path, type, mode, content digest or
// link target) and compares it with what bakeplan digests for the same
// context: the ignore cases above, ignore files that are links (out of the
// context and within it), a Dockerfile's own NAME.dockerignore beside a
// renamed Dockerfile, and a named local context. Any difference fails.
func TestContextAsBuildKitReceivesIt(t *testing.T) {
	env := testenv.Get(t)
	dir := t.TempDir()
	writeFile(t, dir, "outside.dockerignore", "*.md\n")
	type ctxCase struct {
		name   string
		setup  func(ctx string) // writes the ignore rules
		df     string           // the Dockerfile, relative to the spec
		named  bool             // the context is a named one
		ignore string
	}
	var cases []ctxCase
	for i, rules := range ignoreCases {
		cases = append(cases, ctxCase{name: fmt.Sprintf("rules %d %q", i, rules), ignore: rules, df: "list.Dockerfile"})
	}
	cases = append(cases,
		ctxCase{name: "ignore file links out of the context", df: "list.Dockerfile", setup: func(ctx string) {
			if err := os.Symlink("../outside.dockerignore", filepath.Join(ctx, ".dockerignore")); err != nil {
				t.Fatal(err)
			}
		}},
		ctxCase{name: "ignore file links within the context", df: "list.Dockerfile", setup: func(ctx string) {
			if err := os.Symlink("rules/ignore", filepath.Join(ctx, ".dockerignore")); err != nil {
				t.Fatal(err)
			}
		}},
		ctxCase{name: "NAME.dockerignore beside a renamed Dockerfile", ignore: "a.txt", df: "renamed/app.Dockerfile", setup: func(string) {
			writeFile(t, dir, "renamed/app.Dockerfile.dockerignore", "*.md\ndir1\n")
		}},
		ctxCase{name: "named local context", ignore: "*.md\n!dir1/f2.md", df: "list.Dockerfile", named: true},
	)
	listing := fmt.Sprintf("FROM %s AS list\nCOPY . /ctx\nRUN %s\nFROM scratch\nCOPY --from=list /listing /listing\n", env.Base, listScript)
	namedListing := fmt.Sprintf("FROM %s AS list\nCOPY --from=named / /ctx\nRUN %s\nFROM scratch\nCOPY --from=list /listing /listing\n", env.Base, listScript)
	writeFile(t, dir, "list.Dockerfile", listing)
	writeFile(t, dir, "named.Dockerfile", namedListing)
	writeFile(t, dir, "renamed/app.Dockerfile", listing)
	writeFile(t, dir, "empty-ctx/.keep", "")

	var spec strings.Builder
	spec.WriteString(testBlocks(env))
	for i, c := range cases {
		ctx := filepath.Join(dir, fmt.Sprintf("ctx%d", i))
		contextTree(t, ctx)
		if c.ignore != "" {
			writeFile(t, ctx, ".dockerignore", c.ignore+"\n")
		}
		if c.setup != nil {
			c.setup(ctx)
		}
		if c.named {
			fmt.Fprintf(&spec, "target \"c%d\" {\n  context = \"empty-ctx\"\n  dockerfile = \"../named.Dockerfile\"\n  contexts = { named = \"ctx%d\" }\n  output = [{ type = \"local\", dest = \"out/%d\" }]\n}\n", i, i, i)
			continue
		}
		fmt.Fprintf(&spec, "target \"c%d\" {\n  context = \"ctx%d\"\n  dockerfile = \"../%s\"\n  output = [{ type = \"local\", dest = \"out/%d\" }]\n}\n", i, i, c.df, i)
	}
	specPath := writeFile(t, dir, "bakeplan.hcl", spec.String())
	if _, errOut, code := bakeplan(t, "apply", "--offline", "--progress", "quiet", "-f", specPath); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}

	h := inputs.New(osfs.New("/"))
	rel := func(p string) string { return strings.TrimPrefix(filepath.ToSlash(p), "/") }
	for i, c := range cases {
		got, err := os.ReadFile(filepath.Join(dir, "out", strconv.Itoa(i), "listing"))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		dockerfile := rel(filepath.Join(dir, c.df))
		if c.named {
			dockerfile = "" // a named context reads its own .dockerignore only
		}
		files, err := h.ContextFiles(rel(filepath.Join(dir, fmt.Sprintf("ctx%d", i))), dockerfile, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		lines := strings.Split(strings.TrimSpace(string(got)), "\n")
		if len(got) == 0 {
			lines = nil
		}
		slices.Sort(lines)
		if want := listingOf(t, files); strings.Join(lines, "\n") != want {
			t.Errorf("%s: BuildKit received\n%s\nbakeplan digests\n%s", c.name, strings.Join(lines, "\n"), want)
		}
	}
}

// listingOf writes bakeplan's listing of a context in listScript's form.
func listingOf(t *testing.T, files map[string]string) string {
	t.Helper()
	octal := func(perm string) string {
		n, err := strconv.ParseUint(perm, 8, 32)
		if err != nil {
			t.Fatalf("permission bits %q: %v", perm, err)
		}
		return strconv.FormatUint(n, 8)
	}
	var lines []string
	for p, v := range files {
		kind, rest, _ := strings.Cut(v, " ")
		switch {
		case strings.HasPrefix(v, "link:"):
			lines = append(lines, p+" l "+strings.TrimPrefix(v, "link:"))
		case kind == "dir":
			lines = append(lines, p+" d "+octal(rest))
		case kind == "fifo":
			lines = append(lines, p+" p "+octal(rest))
		case strings.HasPrefix(kind, "sha256:"):
			lines = append(lines, p+" f "+octal(rest)+" "+strings.TrimPrefix(kind, "sha256:"))
		default:
			t.Fatalf("%s: unexpected listing %q", p, v)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
