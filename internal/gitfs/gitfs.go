// Package gitfs serves a git revision as a read-only fs.FS, straight from
// the object database: no checkout, no change to the working tree. Paths
// are relative to the repository's top directory.
package gitfs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type entry struct {
	mode fs.FileMode
	obj  string // blob id; "" for directories
	size int64
}

// FS is a git tree. It reads blobs through git cat-file processes, started
// as reads overlap (up to maxReaders: one read is a round trip through a
// pipe, and a diff reads thousands); Close ends them.
type FS struct {
	entries map[string]*entry
	dirs    map[string][]string // dir -> sorted child names

	ctx     context.Context
	dir     string
	mu      sync.Mutex
	idle    []*catFile // started and free
	started []*catFile
}

// catFile is one git cat-file --batch process.
type catFile struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// maxReaders bounds the cat-file processes of one FS.
const maxReaders = 8

// Open lists the tree of rev in the repository that holds dir.
func Open(ctx context.Context, dir, rev string) (*FS, error) {
	out, err := git(ctx, dir, "ls-tree", "-r", "-l", "-z", "--full-tree", rev)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", rev, err)
	}
	f := &FS{entries: map[string]*entry{".": {mode: fs.ModeDir | 0o755}}, dirs: map[string][]string{}}
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, name, ok := strings.Cut(string(rec), "\t")
		if !ok {
			continue
		}
		fields := strings.Fields(meta) // mode type object size
		if len(fields) != 4 || fields[1] != "blob" {
			continue // submodules are not part of a build context here
		}
		e := &entry{obj: fields[2]}
		e.size, _ = strconv.ParseInt(fields[3], 10, 64)
		switch fields[0] {
		case "120000":
			e.mode = fs.ModeSymlink | 0o777
		case "100755":
			e.mode = 0o755
		default:
			e.mode = 0o644
		}
		f.entries[name] = e
		// Register the path with its parent, and new parents with theirs.
		for p := name; ; {
			parent := path.Dir(p)
			f.dirs[parent] = append(f.dirs[parent], path.Base(p))
			if _, known := f.entries[parent]; known {
				break
			}
			f.entries[parent] = &entry{mode: fs.ModeDir | 0o755}
			p = parent
		}
	}
	for d, names := range f.dirs {
		sort.Strings(names)
		f.dirs[d] = dedupe(names)
	}
	f.ctx, f.dir = ctx, dir
	c, err := f.start()
	if err != nil {
		return nil, err
	}
	f.idle = append(f.idle, c)
	return f, nil
}

func (f *FS) start() (*catFile, error) {
	cmd := exec.CommandContext(f.ctx, "git", "-C", f.dir, "cat-file", "--batch")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git cat-file: %w", err)
	}
	c := &catFile{cmd: cmd, in: in, out: bufio.NewReader(stdout)}
	f.started = append(f.started, c)
	return c, nil
}

// reader takes a free cat-file process, starting one when none is free and
// fewer than maxReaders run, else waiting for one.
func (f *FS) reader() (*catFile, error) {
	for {
		f.mu.Lock()
		if n := len(f.idle); n > 0 {
			c := f.idle[n-1]
			f.idle = f.idle[:n-1]
			f.mu.Unlock()
			return c, nil
		}
		if len(f.started) < maxReaders {
			c, err := f.start()
			f.mu.Unlock()
			return c, err
		}
		f.mu.Unlock()
		if err := f.ctx.Err(); err != nil {
			return nil, err
		}
		time.Sleep(50 * time.Microsecond)
	}
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Close stops the git processes.
func (f *FS) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var first error
	for _, c := range f.started {
		c.in.Close()
		if err := c.cmd.Wait(); err != nil && first == nil {
			first = err
		}
	}
	f.started, f.idle = nil, nil
	return first
}

func (f *FS) read(obj string) ([]byte, error) {
	c, err := f.reader()
	if err != nil {
		return nil, err
	}
	b, err := c.read(obj)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		f.idle = append(f.idle, c)
		return b, nil
	}
	// A process whose read failed midway is out of step: it is stopped,
	// and another may start in its place.
	f.started = slices.DeleteFunc(f.started, func(s *catFile) bool { return s == c })
	c.in.Close()
	go c.cmd.Wait()
	return nil, err
}

func (c *catFile) read(obj string) ([]byte, error) {
	if _, err := fmt.Fprintln(c.in, obj); err != nil {
		return nil, err
	}
	header, err := c.out.ReadString('\n')
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(header)
	if len(fields) != 3 {
		return nil, fmt.Errorf("git cat-file: %q", strings.TrimSpace(header))
	}
	n, err := strconv.Atoi(fields[2])
	if err != nil {
		return nil, err
	}
	buf := make([]byte, n+1) // content and a newline
	if _, err := io.ReadFull(c.out, buf); err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// Open implements fs.FS.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	e, ok := f.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if e.mode.IsDir() {
		return &dir{f: f, name: name, e: e}, nil
	}
	data, err := f.read(e.obj)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if e.mode&fs.ModeSymlink != 0 {
		// Follow the link inside the tree, as a checkout would.
		target := path.Join(path.Dir(name), string(data))
		return f.Open(target)
	}
	return &file{info: info{name: path.Base(name), e: e}, r: bytes.NewReader(data)}, nil
}

// ReadLink implements fs.ReadLinkFS.
func (f *FS) ReadLink(name string) (string, error) {
	e, ok := f.entries[name]
	if !ok || e.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	data, err := f.read(e.obj)
	return string(data), err
}

// Lstat implements fs.ReadLinkFS.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	e, ok := f.entries[name]
	if !ok {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrNotExist}
	}
	return info{name: path.Base(name), e: e}, nil
}

// ReadDir implements fs.ReadDirFS without following symlinks, like
// os.DirFS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, ok := f.entries[name]
	if !ok || !e.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for _, n := range f.dirs[name] {
		child := path.Join(name, n)
		out = append(out, fs.FileInfoToDirEntry(info{name: n, e: f.entries[child]}))
	}
	return out, nil
}

type info struct {
	name string
	e    *entry
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.e.size }
func (i info) Mode() fs.FileMode  { return i.e.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.e.mode.IsDir() }
func (i info) Sys() any           { return nil }

type file struct {
	info
	r *bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *file) Close() error               { return nil }

type dir struct {
	f    *FS
	name string
	e    *entry
	pos  int
}

func (d *dir) Stat() (fs.FileInfo, error) { return info{name: path.Base(d.name), e: d.e}, nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: fs.ErrInvalid}
}
func (d *dir) Close() error { return nil }
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	all, err := d.f.ReadDir(d.name)
	if err != nil {
		return nil, err
	}
	rest := all[d.pos:]
	if n > 0 && len(rest) > n {
		rest = rest[:n]
	}
	d.pos += len(rest)
	if n > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	return rest, nil
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// TopLevel returns the top directory of the repository holding dir.
func TopLevel(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	return strings.TrimSpace(string(out)), err
}

// DefaultBase is the merge base of HEAD with the default branch: origin's
// HEAD when known, else main, else master.
func DefaultBase(ctx context.Context, dir string) (string, error) {
	var candidates []string
	if out, err := git(ctx, dir, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	candidates = append(candidates, "origin/main", "main", "origin/master", "master")
	for _, c := range candidates {
		if out, err := git(ctx, dir, "merge-base", "HEAD", c); err == nil {
			return strings.TrimSpace(string(out)), nil
		}
	}
	return "", fmt.Errorf("no default branch to diff against (tried %s); name a revision with --base", strings.Join(candidates, ", "))
}

// ShortRev abbreviates a revision for labels.
func ShortRev(ctx context.Context, dir, rev string) string {
	out, err := git(ctx, dir, "rev-parse", "--short", rev)
	if err != nil {
		return rev
	}
	return strings.TrimSpace(string(out))
}
