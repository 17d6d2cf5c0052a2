package project

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/compiler/inputs"
)

// TestContextIndexAcrossRuns: planning twice with a cache directory keeps
// the contexts' digests in an index file and plans alike; an edited
// context plans as it does without the index; runs at once leave a whole
// index; the cache directory is found as documented.
func TestContextIndexAcrossRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bakeplan.hcl", `
target "a" {
  context = "a"
}
target "b" {
  context = "b"
}
group "default" {
  targets = [target.a, target.b]
}
`)
	for _, c := range []string{"a", "b"} {
		write(c+"/Dockerfile", "FROM scratch\nCOPY . /\n")
		write(c+"/file", c)
	}
	// Only files older than the racy window are kept.
	time.Sleep(inputs.RacyWindow + 100*time.Millisecond)

	cache := filepath.Join(t.TempDir(), "cache")
	digestsWith := func(cacheDir string) map[string]string {
		t.Helper()
		src, err := OnDisk(filepath.Join(dir, "bakeplan.hcl"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := Compile(context.Background(), src, Inputs{Environ: []string{"BAKEPLAN_CACHE_DIR=" + cacheDir}})
		if err != nil || c.Diags.HasErrors() {
			t.Fatal(err, c.Diags)
		}
		out := map[string]string{}
		for _, st := range c.Plan.Steps {
			if st.Build != nil {
				out[st.ID] = st.Build.InputDigest
			}
		}
		return out
	}
	equal := func(a, b map[string]string) bool {
		if len(a) != len(b) || len(a) == 0 {
			return false
		}
		for k, v := range a {
			if b[k] != v {
				return false
			}
		}
		return true
	}

	walked := digestsWith("off")
	first := digestsWith(cache)
	files, _ := filepath.Glob(filepath.Join(cache, "contexts", "*"))
	if len(files) != 1 {
		t.Fatalf("index files %v, want one", files)
	}
	st1, _ := os.Stat(files[0])
	again := digestsWith(cache)
	if !equal(walked, first) || !equal(first, again) {
		t.Fatalf("digests without the index %v, with it %v, then %v", walked, first, again)
	}
	if st2, _ := os.Stat(files[0]); !st2.ModTime().Equal(st1.ModTime()) {
		t.Errorf("an index that served every context was written again")
	}

	// Runs at once, each writing the index: the one left is whole.
	shared := filepath.Join(t.TempDir(), "shared")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			// Not digestsWith: t.Fatal belongs to the test's goroutine.
			src, err := OnDisk(filepath.Join(dir, "bakeplan.hcl"))
			if err == nil {
				_, err = Compile(context.Background(), src, Inputs{Environ: []string{"BAKEPLAN_CACHE_DIR=" + shared}})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ix := openIndex(filepath.Join(dir, "bakeplan.hcl"), []string{"BAKEPLAN_CACHE_DIR=" + shared})
	if ix.ix.Len() != 2 {
		t.Errorf("after runs at once the index holds %d contexts, want 2", ix.ix.Len())
	}

	write("b/file", "B")
	edited, walkedEdited := digestsWith(cache), digestsWith("off")
	if !equal(edited, walkedEdited) || equal(edited, first) {
		t.Errorf("after an edit: with the index %v, without %v (before %v)", edited, walkedEdited, first)
	}

	if got := cacheDir([]string{"HOME=/h", "BAKEPLAN_CACHE_DIR=off"}); got != "" {
		t.Errorf("BAKEPLAN_CACHE_DIR=off gives cache directory %q", got)
	}
	if got := cacheDir([]string{"HOME=/h"}); got != "/h/.cache/bakeplan" {
		t.Errorf("cache directory under HOME is %q", got)
	}
	if got := cacheDir([]string{"HOME=/h", "XDG_CACHE_HOME=/x"}); got != "/x/bakeplan" {
		t.Errorf("cache directory under XDG_CACHE_HOME is %q", got)
	}
	if got := cacheDir([]string{"HOME=relative"}); got != "" {
		t.Errorf("a relative HOME gives cache directory %q", got)
	}
}

// TestContextIndexInABadPlace: a cache directory that cannot hold an index
// (a file where a directory should be, a directory where the index should
// be) costs the index, never the plan.
func TestContextIndexInABadPlace(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "bakeplan.hcl")
	if err := os.WriteFile(spec, []byte("target \"a\" {\n  dockerfile_inline = \"FROM scratch\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	asDir := t.TempDir()
	ix := openIndex(spec, []string{"BAKEPLAN_CACHE_DIR=" + asDir})
	if err := os.MkdirAll(ix.file, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, cache := range map[string]string{"a file as the cache directory": blocked, "a directory as the index": asDir} {
		src, err := OnDisk(spec)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Compile(context.Background(), src, Inputs{Environ: []string{"BAKEPLAN_CACHE_DIR=" + cache}})
		if err != nil || c.Diags.HasErrors() || c.Plan == nil {
			t.Errorf("%s: %v %v", name, err, c.Diags)
		}
	}
}
