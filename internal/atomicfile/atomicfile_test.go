package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// A new file gets perm; an existing one keeps its own.
	f := filepath.Join(dir, "f")
	if err := Write(f, []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(f, []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 || read(f) != "2" {
		t.Errorf("mode %v content %q", st.Mode(), read(f))
	}

	// A link stays a link; its target gets the data.
	real := filepath.Join(dir, "real")
	if err := os.WriteFile(real, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a regular file")
	}
	if st, _ := os.Stat(real); read(real) != "new" || st.Mode().Perm() != 0o640 {
		t.Errorf("target %q mode %v", read(real), st.Mode())
	}

	// A directory is refused and nothing is left beside it.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(sub, []byte("x"), 0o644); err == nil {
		t.Errorf("writing over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}

	// A cycle of links ends.
	if err := os.Symlink("l2", filepath.Join(dir, "l1")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("l1", filepath.Join(dir, "l2")); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "l1"), nil, 0o644); err == nil {
		t.Errorf("a cycle of links was written through")
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "new.json")); err != nil {
		t.Errorf("a new file in a writable directory: %v", err)
	}
	if err := CheckWritable(dir); err == nil {
		t.Errorf("a directory passed")
	}
	if err := CheckWritable(filepath.Join(dir, "missing", "x.json")); err == nil {
		t.Errorf("a file in a missing directory passed")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the check left %v", entries)
	}
}
