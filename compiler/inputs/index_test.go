//go:build unix

package inputs_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/osfs"
)

// countingFS is the machine's file system, counting directory listings
// (a context taken from the index is not listed) and the signatures asked
// of each path.
type countingFS struct {
	*osfs.FS
	listed atomic.Int64
	mu     sync.Mutex
	sigs   map[string]int
}

func (c *countingFS) Sig(name string, follow bool) (osfs.Sig, error) {
	c.mu.Lock()
	if c.sigs == nil {
		c.sigs = map[string]int{}
	}
	c.sigs[name]++
	c.mu.Unlock()
	return c.FS.Sig(name, follow)
}

func (c *countingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	c.listed.Add(1)
	return c.FS.ReadDir(name)
}

// later is a clock far enough ahead that files just written are old
// enough to trust; tests that use it wait for the file system's clock to
// move before they change a file (see settle).
func later() time.Time { return time.Now().Add(inputs.RacyWindow + time.Second) }

// settle waits until a change made now gets times newer than anything
// the last walk saw, as a change made much later would on any file
// system: the racy window, which the test clock hides, is not what is
// tested here.
func settle() { time.Sleep(15 * time.Millisecond) }

func digests(t *testing.T, fsys fs.FS, ix *inputs.Index, dir, dockerfile string, reads []string) (string, string) {
	t.Helper()
	h := inputs.NewContext(context.Background(), fsys)
	if ix != nil {
		h.UseIndex(ix)
	}
	d, err := h.Context(dir, dockerfile, reads)
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.ReleaseContext(dir, dockerfile, reads)
	if err != nil {
		t.Fatal(err)
	}
	return d, r
}

func rel(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(filepath.ToSlash(abs), "/")
}

func TestIndexSkipsUnchangedContexts(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"ctx/main.go":       "package main\n",
		"ctx/.dockerignore": "*.log\n",
		"ctx/debug.log":     "noise\n",
		"ctx/sub/a.txt":     "a\n",
	})
	fsys := &countingFS{FS: osfs.New("/")}
	dir := rel(t, filepath.Join(root, "ctx"))
	ix := inputs.NewIndex(later)

	first, _ := digests(t, fsys, ix, dir, "", nil)
	if ix.Len() != 1 || !ix.Changed() {
		t.Fatalf("after one walk the index holds %d contexts (changed %v), want 1", ix.Len(), ix.Changed())
	}
	listed := fsys.listed.Load()
	fsys.sigs = nil
	again, _ := digests(t, fsys, ix, dir, "", nil)
	if again != first {
		t.Fatalf("digest from the index %s, walked %s", again, first)
	}
	if n := fsys.listed.Load(); n != listed {
		t.Errorf("an unchanged context was listed again (%d listings, then %d)", listed, n)
	}
	// Checking an entry costs a stat per path it depends on, once,
	// though the walk looked at the ignore file three times.
	if len(fsys.sigs) == 0 {
		t.Error("the index checked no path")
	}
	for p, n := range fsys.sigs {
		if n != 1 {
			t.Errorf("%s was checked %d times", p, n)
		}
	}

	// An ignored file changing does not send the walk again; an included
	// one does.
	settle()
	writeTree(t, root, map[string]string{"ctx/debug.log": "more noise\n"})
	if d, _ := digests(t, fsys, ix, dir, "", nil); d != first || fsys.listed.Load() != listed {
		t.Errorf("a change to an ignored file walked the context again or changed its digest")
	}
	writeTree(t, root, map[string]string{"ctx/sub/a.txt": "b\n"})
	if d, _ := digests(t, fsys, ix, dir, "", nil); d == first {
		t.Errorf("an edited file kept the digest the index held")
	}
}

// TestIndexRacyFilesAreNotKept: with the real clock, a walk that saw a
// file written within the racy window is not kept, so a second write in
// the same timestamp tick cannot go unseen.
func TestIndexRacyFilesAreNotKept(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"ctx/a": "1"})
	ix := inputs.NewIndex(nil)
	dir := rel(t, filepath.Join(root, "ctx"))
	first, _ := digests(t, osfs.New("/"), ix, dir, "", nil)
	if ix.Len() != 0 {
		t.Fatalf("a context written just now was kept in the index")
	}
	writeTree(t, root, map[string]string{"ctx/a": "2"}) // same size, maybe the same tick
	if d, _ := digests(t, osfs.New("/"), ix, dir, "", nil); d == first {
		t.Fatal("a rewritten file kept its digest")
	}
}

// TestIndexAgreesWithAWalk proves the index by difference: a few hundred
// random changes to a context (fixed seed), each followed by the digest
// through an index kept across all of them and by a walk without one.
// They must agree every time, for a plain context, one whose Dockerfile
// has its own ignore file, and one a build reads only part of.
func TestIndexAgreesWithAWalk(t *testing.T) {
	steps := 300
	if testing.Short() {
		steps = 60
	}
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(24, 3))
	writeTree(t, root, map[string]string{
		"ctx/main.go":           "package main\n",
		"ctx/.dockerignore":     "*.log\nbuild\n!build/keep\n",
		"ctx/build/out":         "binary",
		"ctx/build/keep":        "kept",
		"ctx/src/a.go":          "package src\n",
		"ctx/debug.log":         "noise",
		"docker/app.Dockerfile": "FROM scratch\nCOPY . /\n",
	})
	fsys := osfs.New("/")
	dir := rel(t, filepath.Join(root, "ctx"))
	cases := []struct {
		name       string
		dockerfile string
		reads      []string
	}{
		{"context", "", nil},
		{"Dockerfile outside", rel(t, filepath.Join(root, "docker/app.Dockerfile")), nil},
		{"reads", "", []string{"src", "build/keep"}},
	}
	ix := inputs.NewIndex(later)
	hits := 0
	for step := range steps {
		settle()
		what := mutate(t, rng, root)
		for _, c := range cases {
			counting := &countingFS{FS: fsys}
			d, r := digests(t, counting, ix, dir, c.dockerfile, c.reads)
			if counting.listed.Load() == 0 {
				hits++
			}
			wd, wr := digests(t, fsys, nil, dir, c.dockerfile, c.reads)
			if d != wd || r != wr {
				t.Fatalf("step %d (%s), %s: the index gave %s / %s, a walk %s / %s", step, what, c.name, d, r, wd, wr)
			}
		}
	}
	// Some changes (a touch, an ignored file) leave the index valid: if
	// it was never used the test proved nothing.
	if hits == 0 {
		t.Fatal("the index never spared a walk")
	}
	t.Logf("%d of %d digests came from the index", hits, steps*len(cases))
}

// mutate makes one random change under root/ctx (or the Dockerfile's own
// ignore file beside it) and says what it did.
func mutate(t *testing.T, rng *rand.Rand, root string) string {
	t.Helper()
	ctx := filepath.Join(root, "ctx")
	var files []string
	filepath.WalkDir(ctx, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != ctx {
			files = append(files, p)
		}
		return nil
	})
	pick := func() string {
		if len(files) == 0 {
			return filepath.Join(ctx, "main.go")
		}
		return files[rng.IntN(len(files))]
	}
	name := func() string {
		dirs := []string{"", "src/", "build/", "deep/er/"}
		names := []string{"a.go", "b.go", "keep", "x.log", "new.txt", ".dockerignore"}
		return filepath.Join(ctx, dirs[rng.IntN(len(dirs))]+names[rng.IntN(len(names))])
	}
	must := func(err error) {
		if err != nil && !os.IsNotExist(err) && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	switch k := rng.IntN(13); k {
	case 0: // same size, new content
		p := pick()
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			b[0] ^= 1
			must(os.WriteFile(p, b, 0o644))
			return "rewrite " + p
		}
		return "nothing"
	case 1: // new size
		p := pick()
		if st, err := os.Lstat(p); err == nil && st.Mode().IsRegular() {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			must(err)
			f.WriteString("more\n")
			f.Close()
			return "append " + p
		}
		return "nothing"
	case 2:
		p := pick()
		st, err := os.Lstat(p)
		if err == nil && st.Mode()&fs.ModeSymlink == 0 {
			must(os.Chmod(p, st.Mode().Perm()^0o111))
		}
		return "chmod " + p
	case 3:
		p, q := pick(), name()
		if os.MkdirAll(filepath.Dir(q), 0o755) != nil || os.Rename(p, q) != nil {
			return "failed rename " + p + " " + q // onto a directory, or into itself
		}
		return "rename " + p + " " + q
	case 4:
		p := name()
		if os.MkdirAll(filepath.Dir(p), 0o755) != nil || os.WriteFile(p, []byte(fmt.Sprint(rng.IntN(1000))), 0o644) != nil {
			return "failed write " + p // a directory there, or a file where its parent would be
		}
		return "write " + p
	case 5:
		p := pick()
		must(os.RemoveAll(p))
		return "remove " + p
	case 6: // touch: the digest must not change
		p := pick()
		now := time.Now()
		must(os.Chtimes(p, now, now))
		return "touch " + p
	case 7: // an edit whose mtime is set back: only ctime tells
		p := pick()
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() {
			return "nothing"
		}
		b, _ := os.ReadFile(p)
		if len(b) > 0 {
			b[len(b)-1] ^= 2
		}
		must(os.WriteFile(p, b, st.Mode().Perm()))
		must(os.Chtimes(p, st.ModTime(), st.ModTime()))
		return "edit with old mtime " + p
	case 8:
		p := name()
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		os.Remove(p)
		targets := []string{"main.go", "src", "../docker", "/etc/hostname", "missing"}
		must(os.Symlink(targets[rng.IntN(len(targets))], p))
		return "symlink " + p
	case 9:
		rules := []string{"*.log\n", "build\n!build/keep\n", "src\n", "", "**/*.go\n!src/a.go\n", "deep\n"}
		p := filepath.Join(ctx, ".dockerignore")
		if rng.IntN(2) == 0 {
			p = filepath.Join(root, "docker/app.Dockerfile.dockerignore")
		}
		if rng.IntN(4) == 0 {
			os.Remove(p)
			return "remove " + p
		}
		must(os.WriteFile(p, []byte(rules[rng.IntN(len(rules))]), 0o644))
		return "rules " + p
	case 10:
		p := filepath.Join(ctx, []string{"empty", "build/empty", "deep/er"}[rng.IntN(3)])
		must(os.MkdirAll(p, 0o755))
		return "mkdir " + p
	case 11: // a file replaced by another through a rename, same size and times
		p := pick()
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() {
			return "nothing"
		}
		b, _ := os.ReadFile(p)
		for i := range b {
			b[i] = 'z'
		}
		tmp := p + ".tmp~"
		must(os.WriteFile(tmp, b, st.Mode().Perm()))
		must(os.Chtimes(tmp, st.ModTime(), st.ModTime()))
		must(os.Rename(tmp, p))
		return "replace " + p
	default: // a file in a directory the rules leave out
		p := filepath.Join(ctx, "build", fmt.Sprint("gen", rng.IntN(5)))
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, []byte("generated"), 0o644))
		return "generate " + p
	}
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIndexEncoding(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a/x": "1", "b/y\nnewline": "2", "c/\x01odd": "3"})
	fsys := osfs.New("/")
	ix := inputs.NewIndex(later)
	want := map[string]string{}
	for _, d := range []string{"a", "b", "c"} {
		dir := rel(t, filepath.Join(root, d))
		want[dir], _ = digests(t, fsys, ix, dir, "", nil)
	}
	data := ix.MarshalBinary("scheme 1")

	// Read back, it serves every context without a walk.
	back := inputs.ReadIndex(data, "scheme 1", later)
	if back.Len() != 3 || back.Changed() {
		t.Fatalf("read back %d contexts (changed %v), want 3", back.Len(), back.Changed())
	}
	for dir, d := range want {
		counting := &countingFS{FS: fsys}
		if got, _ := digests(t, counting, back, dir, "", nil); got != d || counting.listed.Load() != 0 {
			t.Errorf("%s: %s from the read index (%d listings), want %s", path.Base(dir), got, counting.listed.Load(), d)
		}
	}

	// Anything else reads as an empty index: another program's, a torn
	// file, any single byte changed.
	bad := map[string][]byte{
		"other scheme": nil,
		"empty":        {},
		"torn":         data[:len(data)/2],
		"extended":     append(bytes.Clone(data), 0),
	}
	for i := 0; i < len(data); i += max(1, len(data)/97) {
		flipped := bytes.Clone(data)
		flipped[i] ^= 0x20
		bad[fmt.Sprint("byte ", i)] = flipped
	}
	for name, b := range bad {
		scheme := "scheme 1"
		if b == nil {
			b, scheme = data, "scheme 2"
		}
		if got := inputs.ReadIndex(b, scheme, later); got.Len() != 0 {
			t.Errorf("%s: read %d contexts, want none", name, got.Len())
		}
	}
}

// FuzzReadIndex: no input makes reading an index panic or hang, and what
// reads as an index writes back as itself.
func FuzzReadIndex(f *testing.F) {
	ix := inputs.NewIndex(later)
	f.Add(ix.MarshalBinary("s"))
	f.Add([]byte("bakeplan context index 2\n\x01s\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := inputs.ReadIndex(data, "s", later)
		if got.Len() > 0 {
			again := inputs.ReadIndex(got.MarshalBinary("s"), "s", later)
			if again.Len() != got.Len() {
				t.Fatalf("read %d contexts, wrote and read back %d", got.Len(), again.Len())
			}
		}
	})
}

// TestIndexTakesWhatTheCallerSaw: a context directory the caller has just
// lstat'ed (Saw) is not stat'ed again to check its entry, and what the
// caller saw counts: a file added since the entry was kept sends the walk
// again.
func TestIndexTakesWhatTheCallerSaw(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"ctx/a": "1"})
	dir := rel(t, filepath.Join(root, "ctx"))
	ix := inputs.NewIndex(later)
	first, _ := digests(t, osfs.New("/"), ix, dir, "", nil)

	check := func() (string, int) {
		t.Helper()
		fsys := &countingFS{FS: osfs.New("/")}
		fi, err := fs.Lstat(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		h := inputs.NewContext(context.Background(), fsys)
		h.UseIndex(ix)
		h.Saw(dir, fi)
		d, err := h.Context(dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		return d, fsys.sigs[dir]
	}
	if d, n := check(); d != first || n != 0 {
		t.Errorf("unchanged: digest %s (want %s), the directory stat'ed %d times after Saw", d, first, n)
	}
	settle()
	writeTree(t, root, map[string]string{"ctx/b": "2"})
	if d, _ := check(); d == first {
		t.Error("a file added since the entry was kept did not change the digest")
	}
}
