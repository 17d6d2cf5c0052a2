//go:build unix

package osfs_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bakeplan/bakeplan/internal/osfs"
)

func TestFS(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "hello", 0o644)
	write("sub/run.sh", "#!/bin/sh\n", 0o755)
	write("big", strings.Repeat("x", 100_000), 0o644)
	write("empty", "", 0o644)
	if err := os.Symlink("a.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	fsys := osfs.New(dir)

	// It behaves as an fs.FS over the directory, symbolic links included.
	if err := fstest.TestFS(fsys, "a.txt", "sub/run.sh", "big", "empty", "link"); err != nil {
		t.Fatal(err)
	}
	if target, err := fs.ReadLink(fsys, "link"); err != nil || target != "a.txt" {
		t.Fatalf("ReadLink = %q, %v", target, err)
	}

	tests := []struct {
		name string
		want string
		mode fs.FileMode
	}{
		{"a.txt", "hello", 0o644},
		{"sub/run.sh", "#!/bin/sh\n", 0o755},
		{"big", strings.Repeat("x", 100_000), 0o644},
		{"empty", "", 0o644},
		{"link", "hello", 0o644}, // followed, as os.Open does
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, mode, size, err := fsys.OpenStat(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want || size != int64(len(tt.want)) || mode != tt.mode {
				t.Errorf("got %d bytes, size %d, mode %v; want %d bytes, mode %v", len(got), size, mode, len(tt.want), tt.mode)
			}
		})
	}

	if f, mode, _, err := fsys.OpenStat("sub"); err != nil || !mode.IsDir() {
		t.Errorf("directory: mode %v, %v", mode, err)
	} else {
		f.Close()
	}
	if _, _, _, err := fsys.OpenStat("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	if _, _, _, err := fsys.OpenStat("../escape"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("invalid path: %v, want ErrInvalid", err)
	}
}

func TestSig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	fsys := osfs.New(dir)
	for _, tt := range []struct {
		name   string
		follow bool
		want   string // what os reports the same as
	}{
		{"f", false, "f"},
		{"l", false, "l"},
		{"l", true, "f"},
	} {
		got, err := fsys.Sig(tt.name, tt.follow)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(filepath.Join(dir, tt.want))
		if err != nil {
			t.Fatal(err)
		}
		want, ok := osfs.SigOf(fi)
		if !ok || got != want {
			t.Errorf("Sig(%s, follow %v) = %+v, want %+v", tt.name, tt.follow, got, want)
		}
	}
	r, opened, err := fsys.OpenSig("l")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if f, _ := fsys.Sig("f", false); opened != f || opened.FileMode() != 0o640 || opened.Size != 1 {
		t.Errorf("OpenSig(l) = %+v (mode %v), want the file's %+v", opened, opened.FileMode(), f)
	}
	if _, err := fsys.Sig("missing", false); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Sig of a missing file: %v", err)
	}
	// A change that keeps size and mtime still changes the Sig (ctime).
	before, _ := fsys.Sig("f", false)
	if err := os.Chmod(filepath.Join(dir, "f"), 0o600); err != nil {
		t.Fatal(err)
	}
	if after, _ := fsys.Sig("f", false); after == before {
		t.Errorf("a chmod left the Sig %+v", after)
	}
}
