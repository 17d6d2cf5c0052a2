package project

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

// TestSyntaxCacheAcrossRuns proves the syntax cache by difference with no
// cache: the plan (as JSON) and every diagnostic, ranges included, are
// the same when the spec and its override file are parsed, read back,
// read with the cache file damaged, then edited and moved down a line; the
// file keeps exactly the current pieces, and a run that read every piece
// back does not write it. Once for a spec that plans (with a warning at a
// tag), once for one whose error stops the plan.
func TestSyntaxCacheAcrossRuns(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, last, diag string
		plans            bool
	}{
		{"warning", "target \"pushed\" {\n  context = \"ctx\"\n  tags = [\"r.example.com/p:${var.V}\"]\n  push = true\n}\n", "Push to an undeclared registry", true},
		{"error", "target \"odd\" {\n  tags = [\"r/odd:${var.NOPE}\"]\n}\n", "NOPE", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			syntaxCacheAcrossRuns(t, tt.last, tt.diag, tt.plans)
		})
	}
}

// syntaxCacheAcrossRuns is TestSyntaxCacheAcrossRuns for a spec of 30
// targets and last, its 32nd block, whose diagnostic mentions diag.
func syntaxCacheAcrossRuns(t *testing.T, last, diag string, plans bool) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var spec strings.Builder
	spec.WriteString("variable \"V\" {\n  default = \"1\"\n}\n")
	for i := range 30 {
		fmt.Fprintf(&spec, "target \"t%d\" {\n  context = \"ctx\"\n  tags = [\"r/t%d:${var.V}\"]\n  args = { N = %d * 2, S = upper(\"x\") }\n}\n", i, i, i)
	}
	spec.WriteString(last)
	write("bakeplan.hcl", spec.String())
	write("bakeplan.override.hcl", "target \"t3\" {\n  tags = [\"r/over:1\"]\n}\ntarget \"t4\" {\n  args = { N = \"four\" }\n}\n")
	write("ctx/Dockerfile", "FROM scratch\n")

	cache := filepath.Join(t.TempDir(), "cache")
	run := func(cacheDir string) string {
		t.Helper()
		src, err := OnDisk(filepath.Join(dir, "bakeplan.hcl"))
		if err != nil {
			t.Fatal(err)
		}
		src.Overrides = append(src.Overrides, overrideFile(t, filepath.Join(dir, "bakeplan.override.hcl")))
		c, err := Compile(context.Background(), src, Inputs{Environ: []string{"BAKEPLAN_CACHE_DIR=" + cacheDir}})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		for _, d := range c.Diags {
			fmt.Fprintf(&out, "%s: %s: %s (%v)\n", d.Subject, d.Summary, d.Detail, d.Context)
		}
		if c.Plan != nil {
			b, err := plan.Marshal(c.Plan)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
		}
		return out.String()
	}
	pieces := func() int {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(cache, "syntax", "*"))
		if len(files) != 1 {
			t.Fatalf("syntax cache files %v, want one", files)
		}
		data, _ := os.ReadFile(files[0])
		scheme, _ := programIdentity()
		return len(readSyntaxCache(data, scheme))
	}

	want := run("off")
	if plans != strings.Contains(want, `"format_version"`) || !strings.Contains(want, diag) {
		t.Fatalf("the spec was meant to have a diagnostic, and a plan: %v:\n%s", plans, want)
	}
	if got := run(cache); got != want {
		t.Fatalf("first run with the cache:\n%s\nwithout:\n%s", got, want)
	}
	// 32 blocks in the spec and 2 in the override file: a piece each.
	if n := pieces(); n != 34 {
		t.Errorf("the cache holds %d pieces, want 34", n)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "syntax", "*"))
	before, _ := os.Stat(files[0])
	// It holds the spec's text as parsed, secrets written in it too: the
	// user's alone.
	dirInfo, _ := os.Stat(filepath.Dir(files[0]))
	if before.Mode().Perm() != 0o600 || dirInfo.Mode().Perm() != 0o700 {
		t.Errorf("the cache file is %v in a directory %v, want 0600 in 0700", before.Mode().Perm(), dirInfo.Mode().Perm())
	}
	if got := run(cache); got != want {
		t.Fatalf("run from the cache:\n%s\nwithout:\n%s", got, want)
	}
	if after, _ := os.Stat(files[0]); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a run that read every piece back wrote the cache again")
	}

	// A damaged file is as good as none, and the run after it writes a
	// whole one again: a byte changed where it still reads back (a tag's
	// text, which only the file's checksum can tell), or the file cut
	// short.
	whole, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(whole, []byte("r/t12:")) {
		t.Fatal("the cache file does not hold the tag's text")
	}
	for _, damaged := range [][]byte{
		bytes.Replace(whole, []byte("r/t12:"), []byte("r/t13:"), 1),
		whole[:len(whole)/3],
	} {
		if err := os.WriteFile(files[0], damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := run(cache); got != want {
			t.Fatalf("run with a damaged cache file:\n%s\nwithout:\n%s", got, want)
		}
		if n := pieces(); n != 34 {
			t.Errorf("after a damaged file the cache holds %d pieces, want 34", n)
		}
	}

	edited := strings.Replace(spec.String(), "r/t7:", "r/t7-edited:", 1)
	edited = strings.Replace(edited, "target \"t20\" {\n", "target \"t20\" {\n  # moved\n", 1)
	write("bakeplan.hcl", "# a line above everything\n"+edited)
	want = run("off")
	if got := run(cache); got != want {
		t.Fatalf("after an edit, with the cache:\n%s\nwithout:\n%s", got, want)
	}
	if n := pieces(); n != 34 {
		t.Errorf("after an edit the cache holds %d pieces, want the current 34", n)
	}
}

// overrideFile is the override file at path, as OnDisk names files.
func overrideFile(t *testing.T, p string) Override {
	t.Helper()
	src, err := OnDisk(p)
	if err != nil {
		t.Fatal(err)
	}
	return Override{Name: src.Name, SpecPath: src.SpecPath, Path: src.Path}
}

// TestSyntaxCacheFile: the file reads back as written, and not at all when
// another program wrote it or it is damaged anywhere.
func TestSyntaxCacheFile(t *testing.T) {
	pieces := map[[sha256.Size]byte][]byte{
		sha256.Sum256([]byte("a")): []byte("one"),
		sha256.Sum256([]byte("b")): {},
		sha256.Sum256([]byte("c")): bytes.Repeat([]byte{7}, 300),
	}
	data := marshalSyntaxCache(pieces, "prog 1")
	got := readSyntaxCache(data, "prog 1")
	if len(got) != len(pieces) {
		t.Fatalf("read %d pieces of %d", len(got), len(pieces))
	}
	for k, v := range pieces {
		if !bytes.Equal(got[k], v) {
			t.Errorf("piece %x: %q, want %q", k[:4], got[k], v)
		}
	}
	if readSyntaxCache(data, "prog 2") != nil {
		t.Error("another program's cache was read")
	}
	for i := range data {
		damaged := bytes.Clone(data)
		damaged[i] ^= 0x20
		if readSyntaxCache(damaged, "prog 1") != nil {
			t.Fatalf("a cache damaged at byte %d was read", i)
		}
	}
	for n := range len(data) {
		if readSyntaxCache(data[:n], "prog 1") != nil {
			t.Fatalf("a cache cut to %d bytes was read", n)
		}
	}
}
