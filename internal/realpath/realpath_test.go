package realpath

import (
	"errors"
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
