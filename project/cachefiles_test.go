package project

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStaleCacheFilesArePruned: a cache file no run used for 30 days goes
// when another file of its kind is written; one a run reads is marked as
// used, so it stays however long nothing in it changes.
func TestStaleCacheFilesArePruned(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	spec := filepath.Join(dir, "bakeplan.hcl")
	if err := os.WriteFile(spec, []byte("target \"a\" {\n  context = \".\"\n}\ntarget \"b\" {\n  context = \".\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	env := []string{"BAKEPLAN_CACHE_DIR=" + cache}
	plan := func() {
		t.Helper()
		src, err := OnDisk(spec)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := Compile(context.Background(), src, Inputs{Environ: env}); err != nil || c.Diags.HasErrors() {
			t.Fatal(err, c.Diags)
		}
	}
	plan()
	ours, _ := filepath.Glob(filepath.Join(cache, "syntax", "*"))
	if len(ours) != 1 {
		t.Fatalf("syntax cache files %v, want one", ours)
	}
	old := time.Now().Add(-staleAfter - time.Hour)
	// Ours, unused for as long: a run reads it and marks it.
	if err := os.Chtimes(ours[0], old, old); err != nil {
		t.Fatal(err)
	}
	// Another spec's, gone long ago, and a recent one.
	stale, recent := filepath.Join(cache, "syntax", "0123stale"), filepath.Join(cache, "syntax", "4567recent")
	for _, f := range []string{stale, recent} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	plan() // reads ours (and marks it); writes nothing
	if fi, err := os.Stat(ours[0]); err != nil || time.Since(fi.ModTime()) > time.Hour {
		t.Fatalf("the cache file a run read was not marked as used: %v", err)
	}
	if err := os.WriteFile(spec, []byte("target \"a\" {\n  context = \".\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan() // a block went: ours is written, and the directory pruned
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a cache file unused for %v is still there (%v)", staleAfter, err)
	}
	for _, f := range []string{ours[0], recent} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("a cache file in use was removed: %v", err)
		}
	}
}
