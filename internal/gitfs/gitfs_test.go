package gitfs_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/bakeplan/bakeplan/internal/gitfs"
)

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v %s", args, err, out)
	}
}

func TestRevisionFS(t *testing.T) {
	dir := t.TempDir()
	gitRun(t, dir, "init", "-q", "-b", "main")
	os.MkdirAll(filepath.Join(dir, "app/src"), 0o755)
	os.WriteFile(filepath.Join(dir, "app/Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app/src/run.sh"), []byte("#!/bin/sh\n"), 0o755)
	os.Symlink("src/run.sh", filepath.Join(dir, "app/link"))
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "-m", "one")
	// The working tree moves on; the revision must not.
	os.WriteFile(filepath.Join(dir, "app/Dockerfile"), []byte("FROM busybox\n"), 0o644)

	f, err := gitfs.Open(context.Background(), dir, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := fstest.TestFS(f, "app/Dockerfile", "app/src/run.sh", "app/link"); err != nil {
		t.Fatal(err)
	}
	b, _ := fs.ReadFile(f, "app/Dockerfile")
	if string(b) != "FROM scratch\n" {
		t.Errorf("Dockerfile %q, want the committed one", b)
	}
	st, _ := f.Lstat("app/src/run.sh")
	if st.Mode()&0o111 == 0 {
		t.Errorf("the executable bit was lost")
	}
	if target, err := f.ReadLink("app/link"); err != nil || target != "src/run.sh" {
		t.Errorf("ReadLink = %q, %v", target, err)
	}
}
