package realpath

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/bakeplan/bakeplan/internal/osfs"
)

func TestResolve(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "spec/app"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "elsewhere/sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "elsewhere/Dockerfile"), nil, 0o644))
	must(os.Symlink("../elsewhere", filepath.Join(root, "spec/out")))
	must(os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(root, "spec/abs")))
	must(os.Symlink("app", filepath.Join(root, "spec/in")))
	must(os.Symlink("../elsewhere/Dockerfile", filepath.Join(root, "spec/app/Dockerfile")))
	must(os.Symlink("loop2", filepath.Join(root, "spec/loop1")))
	must(os.Symlink("loop1", filepath.Join(root, "spec/loop2")))
	must(os.Symlink("../out/..", filepath.Join(root, "spec/app/up")))

	fsys := osfs.New(root)
	tests := []struct{ in, want string }{
		{"spec", "spec"},
		{"spec/app", "spec/app"},
		{"spec/in", "spec/app"},
		{"spec/out", "elsewhere"},
		{"spec/out/sub", "elsewhere/sub"},
		{"spec/abs/sub", filepath.ToSlash(filepath.Join(root, "elsewhere/sub"))[1:]},
		{"spec/app/Dockerfile", "spec/elsewhere/Dockerfile"},
		{"spec/in/Dockerfile", "spec/elsewhere/Dockerfile"},
		{"spec/missing/x", "spec/missing/x"},
		{"spec/out/missing/x", "elsewhere/missing/x"},
		{"spec/app/up", "."},
		{".", "."},
	}
	cache := NewCache(fsys)
	for _, tt := range tests {
		for name, resolve := range map[string]func(string) (string, error){
			"Resolve":       func(p string) (string, error) { return Resolve(fsys, p) },
			"Cache.Resolve": cache.Resolve,
		} {
			got, err := resolve(tt.in)
			if err != nil {
				t.Errorf("%s(%q): %v", name, tt.in, err)
				continue
			}
			if got != tt.want {
				t.Errorf("%s(%q) = %q, want %q", name, tt.in, got, tt.want)
			}
		}
	}
	if _, err := cache.Resolve("spec/loop1/x"); !errors.Is(err, ErrLoop) {
		t.Errorf("a cycle of links through the cache: %v, want ErrLoop", err)
	}
	if _, err := Resolve(fsys, "spec/loop1/x"); !errors.Is(err, ErrLoop) {
		t.Errorf("a cycle of links: %v, want ErrLoop", err)
	}
	if _, err := Resolve(fsys, "/abs"); err == nil {
		t.Error("an invalid path resolved")
	}
}

// TestCacheInfo: what a Cache saw of a resolved path is its stat, given
// only for a path that is no link.
func TestCacheInfo(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "real/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	fsys := osfs.New(root)
	c := NewCache(fsys)
	for _, name := range []string{"real/dir", "link/dir", "link"} {
		r, err := c.Resolve(name)
		if err != nil {
			t.Fatal(err)
		}
		fi, ok := c.Info(r)
		if !ok {
			t.Fatalf("%s (%s): no info", name, r)
		}
		want, err := fs.Stat(fsys, r)
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(fi, want) || fi.Mode() != want.Mode() || !fi.ModTime().Equal(want.ModTime()) {
			t.Errorf("%s: info %v, stat %v", name, fi.Mode(), want.Mode())
		}
	}
	if _, ok := c.Info("link"); ok {
		t.Error("a link has info: its lstat is not its stat")
	}
}
