package inputs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/bakeplan/bakeplan/compiler/inputs"
)

func file(data string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(data), Mode: 0o644} }

// base is a context with an ignore file, a nested directory and a symlink.
func base() fstest.MapFS {
	return fstest.MapFS{
		"ctx/Dockerfile":    file("FROM scratch\n"),
		"ctx/.dockerignore": file("*.log\nbuild\n!build/keep\n"),
		"ctx/main.go":       file("package main\n"),
		"ctx/debug.log":     file("noise\n"),
		"ctx/build/out":     file("binary"),
		"ctx/build/keep":    file("kept"),
		"ctx/src/a.go":      file("package src\n"),
		"ctx/link":          &fstest.MapFile{Data: []byte("src/a.go"), Mode: fs.ModeSymlink | 0o777},
	}
}

func TestContextDigest(t *testing.T) {
	want := digestOf(t, base(), "ctx/Dockerfile")
	tests := []struct {
		name    string
		change  func(fstest.MapFS)
		changed bool
	}{
		{"nothing", func(fstest.MapFS) {}, false},
		{"edit", func(m fstest.MapFS) { m["ctx/main.go"] = file("package main // edited\n") }, true},
		{"rename", func(m fstest.MapFS) { m["ctx/main2.go"] = m["ctx/main.go"]; delete(m, "ctx/main.go") }, true},
		{"chmod +x", func(m fstest.MapFS) { m["ctx/main.go"].Mode = 0o755 }, true},
		{"touch", func(m fstest.MapFS) { m["ctx/main.go"].ModTime = m["ctx/main.go"].ModTime.Add(1e9) }, false},
		{"ignored file", func(m fstest.MapFS) { m["ctx/debug.log"] = file("other noise\n") }, false},
		{"ignored directory", func(m fstest.MapFS) { m["ctx/build/out"] = file("other binary") }, false},
		{"re-included file", func(m fstest.MapFS) { m["ctx/build/keep"] = file("changed") }, true},
		{"new nested file", func(m fstest.MapFS) { m["ctx/src/b.go"] = file("package src\n") }, true},
		{"symlink target", func(m fstest.MapFS) { m["ctx/link"].Data = []byte("main.go") }, true},
		{"ignore rules", func(m fstest.MapFS) { m["ctx/.dockerignore"] = file("*.log\n") }, true},
		{"Dockerfile's own ignore file", func(m fstest.MapFS) { m["ctx/Dockerfile.dockerignore"] = file("*.log\nsrc\n") }, true},
		{"outside the context", func(m fstest.MapFS) { m["other/x"] = file("x") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.change(m)
			if got := digestOf(t, m, "ctx/Dockerfile"); (got != want) != tt.changed {
				t.Errorf("digest changed = %v, want %v", got != want, tt.changed)
			}
		})
	}
}

func digestOf(t *testing.T, m fstest.MapFS, dockerfile string) string {
	t.Helper()
	d, err := inputs.New(m).Context("ctx", dockerfile, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContextFiles(t *testing.T) {
	files, err := inputs.New(base()).ContextFiles("ctx", "ctx/Dockerfile", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	want := map[string]bool{".dockerignore": true, "Dockerfile": true, "main.go": true, "src/": true, "src/a.go": true, "link": true, "build/": true, "build/keep": true}
	if len(files) != len(want) {
		t.Fatalf("files = %v, want %v", names, want)
	}
	for n := range want {
		if _, ok := files[n]; !ok {
			t.Errorf("missing %s in %v", n, names)
		}
	}
	if files["link"] != "link:src/a.go" {
		t.Errorf("link = %q", files["link"])
	}
	if files["main.go"] != inputs.Bytes([]byte("package main\n"))+" 0644" {
		t.Errorf("main.go = %q", files["main.go"])
	}
}

// Contexts sharing an ignore file share its compiled rules; digesting many
// at once must give each the digest it gets alone (run with -race).
func TestPrefetchConcurrent(t *testing.T) {
	m := fstest.MapFS{}
	for i := range 40 {
		dir := fmt.Sprintf("c%d", i)
		m[dir+"/.dockerignore"] = file("*.log\n!keep.log\n")
		m[dir+"/a.log"] = file("x")
		m[dir+"/keep.log"] = file(dir)
		m[dir+"/Dockerfile"] = file("FROM scratch\n")
	}
	h := inputs.New(m)
	for i := range 40 {
		h.Prefetch(fmt.Sprintf("c%d", i), "")
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			dir := fmt.Sprintf("c%d", i)
			got, err := h.Context(dir, "", nil)
			if err != nil {
				t.Error(err)
				return
			}
			alone, err := inputs.New(m).Context(dir, "", nil)
			if err != nil || got != alone {
				t.Errorf("%s: %s concurrently, %s alone (%v)", dir, got, alone, err)
			}
		})
	}
	wg.Wait()
}

func TestFileMissing(t *testing.T) {
	if _, err := inputs.New(fstest.MapFS{}).File("nope"); err == nil {
		t.Fatal("no error for a missing file")
	}
	if _, err := inputs.New(fstest.MapFS{}).Context("nope", "", nil); err == nil {
		t.Fatal("no error for a missing context")
	}
}

// A Dockerfile outside the context brings its own ignore file along.
func TestIgnoreFileBesideOutsideDockerfile(t *testing.T) {
	m := base()
	m["df/Dockerfile"] = file("FROM scratch\n")
	without, err := inputs.New(m).Context("ctx", "df/Dockerfile", nil)
	if err != nil {
		t.Fatal(err)
	}
	m["df/Dockerfile.dockerignore"] = file("src\n")
	with, err := inputs.New(m).Context("ctx", "df/Dockerfile", nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := inputs.New(m).ContextFiles("ctx", "df/Dockerfile", nil)
	if err != nil {
		t.Fatal(err)
	}
	if with == without {
		t.Error("the Dockerfile's ignore file did not change the digest")
	}
	if _, ok := files["src/a.go"]; ok {
		t.Error("src/a.go is listed although df/Dockerfile.dockerignore excludes src")
	}
	if _, ok := files["debug.log"]; !ok {
		t.Error("debug.log is missing: the context's .dockerignore must not apply")
	}
}

// cancelFS cancels its context once n directories have been read, as a
// Ctrl-C in the middle of digesting a large context would.
type cancelFS struct {
	fstest.MapFS
	n      *atomic.Int32
	cancel context.CancelFunc
}

func (f cancelFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if f.n.Add(-1) <= 0 {
		f.cancel()
	}
	return f.MapFS.ReadDir(name)
}

func TestContextStopsWalking(t *testing.T) {
	m := fstest.MapFS{}
	for i := range 200 {
		m[fmt.Sprintf("ctx/d%03d/f", i)] = &fstest.MapFile{Data: []byte("x")}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := &atomic.Int32{}
	n.Store(5)
	_, err := inputs.NewContext(ctx, cancelFS{MapFS: m, n: n, cancel: cancel}).Context("ctx", "", nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if left := n.Load(); left < -5 {
		t.Errorf("%d more directories were read after the cancel", -left)
	}
}

// TestPathTooLongForBuildKit: a context path BuildKit could not write
// under its state directory is refused when the context is digested.
func TestPathTooLongForBuildKit(t *testing.T) {
	deep := strings.Repeat(strings.Repeat("d", 99)+"/", 40) + "f" // 4,001 bytes
	fsys := fstest.MapFS{"ctx/" + deep: {Data: []byte("x")}, "ctx/ok": {Data: []byte("y")}}
	_, err := inputs.New(fsys).Context("ctx", "", nil)
	if err == nil || !strings.Contains(err.Error(), "file name too long") {
		t.Fatalf("err = %v", err)
	}
	fsys = fstest.MapFS{"ctx/" + deep[:3800] + "f": {Data: []byte("x")}}
	if _, err := inputs.New(fsys).Context("ctx", "", nil); err != nil {
		t.Errorf("a %d-byte path: %v", len(deep[:3800])+1, err)
	}
}
