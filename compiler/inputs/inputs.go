// Package inputs computes the digests of what a build reads: single files
// (Dockerfiles) and directory trees (contexts) filtered by .dockerignore
// rules, the way BuildKit filters them before sending a context.
//
// A tree digest covers each entry BuildKit's client would send (fsutil's
// own filter decides): its path, type, permission bits and content (a
// symlink's target, not what it points at), so a rename, an edit or a
// chmod changes it and a touch does not.
package inputs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/bakeplan/bakeplan/internal/filemode"
	"github.com/bakeplan/bakeplan/internal/osfs"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/tonistiigi/fsutil"
	"github.com/tonistiigi/fsutil/types"
)

// Hasher digests files and trees of one fs.FS, remembering what it already
// digested so that targets sharing a context pay for it once.
type Hasher struct {
	fsys fs.FS
	ctx  context.Context // ends every walk early when done

	mu    sync.Mutex
	trees map[string]*result
	files map[string]fileSum
	// matchers holds compiled ignore rules not in use, by ignore file content.
	matchers map[string][]*patternmatcher.PatternMatcher
	ignores  map[string]readResult // ignore files outside contexts, by path
	parsed   map[string][]string   // ignore files' rules, by content
	// queue holds the contexts Prefetch was asked for and no worker has
	// taken yet; workers counts the goroutines taking them, at most
	// maxWorkers. A goroutine per context would cost each its stack.
	queue      []prefetch
	workers    int
	maxWorkers int

	index *Index // digests kept between runs, or nil
	sigs  sigFS  // fsys, when it can say what Sigs its files have
	// seen is what this run found the signature of each path outside a
	// context to be: contexts share those (a Dockerfile's ignore file),
	// and checking them once a run is enough.
	seen map[dep]dep
	// saw holds what the caller's own lstat of a path that is no link
	// saw this run (Saw), which checking an index entry takes as that
	// path's signature instead of asking again.
	saw map[string]osfs.Sig
}

// fileSum is a file's digest and executable bit, and its signature as it
// was read when the file system has them.
type fileSum struct {
	sum  string
	exec bool
	sig  osfs.Sig
}

// result is a tree digest that may still be in the making.
type result struct {
	done   chan struct{}
	digest string
	// release is the digest of the tree as a release build sends it:
	// permission bits as git records them (filemode.Git).
	release string
	err     error
}

// New returns a Hasher reading fsys.
func New(fsys fs.FS) *Hasher { return NewContext(context.Background(), fsys) }

// NewContext returns a Hasher reading fsys that stops walking a tree, with
// ctx's error, once ctx is done: a large context takes seconds to digest.
func NewContext(ctx context.Context, fsys fs.FS) *Hasher {
	sigs, _ := fsys.(sigFS)
	return &Hasher{
		sigs:       sigs,
		ctx:        ctx,
		fsys:       fsys,
		trees:      map[string]*result{},
		files:      map[string]fileSum{},
		matchers:   map[string][]*patternmatcher.PatternMatcher{},
		ignores:    map[string]readResult{},
		parsed:     map[string][]string{},
		seen:       map[dep]dep{},
		maxWorkers: 2 * runtime.GOMAXPROCS(0),
	}
}

// UseIndex makes the Hasher take context digests from ix when what they
// were made from is unchanged, and keep the ones it makes there. It does
// nothing on a file system without signatures (a git revision).
func (h *Hasher) UseIndex(ix *Index) {
	if h.sigs != nil {
		h.index = ix
	}
}

// File returns the digest of one file's content.
func (h *Hasher) File(name string) (string, error) {
	sum, _, err := h.regular(name, nil)
	return sum, err
}

// statOpener is a file system that opens a file and stats it more cheaply
// than Open and Stat do (the machine's own, see internal/osfs).
type statOpener interface {
	OpenStat(name string) (io.ReadCloser, fs.FileMode, int64, error)
}

// openStat opens a file and returns it with its mode and size, and its
// signature when the file system has them.
func (h *Hasher) openStat(name string) (io.ReadCloser, fs.FileMode, int64, osfs.Sig, error) {
	if h.sigs != nil {
		f, sig, err := h.sigs.OpenSig(name)
		return f, sig.FileMode(), sig.Size, sig, err
	}
	if o, ok := h.fsys.(statOpener); ok {
		f, mode, size, err := o.OpenStat(name)
		return f, mode, size, osfs.Sig{}, err
	}
	f, err := h.fsys.Open(name)
	if err != nil {
		return nil, 0, 0, osfs.Sig{}, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, 0, osfs.Sig{}, err
	}
	return f, st.Mode(), st.Size(), osfs.Sig{}, nil
}

// digestFile digests a regular file and says whether it is executable.
func (h *Hasher) digestFile(name string) (fileSum, error) {
	f, mode, size, sig, err := h.openStat(name)
	if err != nil {
		return fileSum{}, err
	}
	defer f.Close()
	if !mode.IsRegular() {
		return fileSum{}, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	sum, err := digest(f, size)
	if err != nil {
		return fileSum{}, fmt.Errorf("reading %s: %w", name, err)
	}
	return fileSum{sum: sum, exec: mode&0o111 != 0, sig: sig}, nil
}

// digest hashes an open file of the given size. A small file is read in one
// call of exactly its size, without a second call to see the end: what is
// digested is the file as it was when it was opened.
func digest(f io.Reader, size int64) (string, error) {
	d := sha256.New()
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	if size >= 0 && size <= int64(len(*buf)) {
		n, err := io.ReadFull(f, (*buf)[:size])
		if err != nil {
			return "", err
		}
		d.Write((*buf)[:n])
	} else if _, err := io.CopyBuffer(d, struct{ io.Reader }{f}, *buf); err != nil {
		// The anonymous struct hides WriterTo, which would allocate its own buffer.
		return "", err
	}
	return "sha256:" + hex.EncodeToString(d.Sum(nil)), nil
}

var errNotRegular = errors.New("not a regular file")

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// Bytes returns the digest of b, in the form File uses.
func Bytes(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ignoreFile reads the ignore file BuildKit's Dockerfile frontend uses
// for a build: the Dockerfile's own NAME.dockerignore when it exists in
// the Dockerfile's directory, else the context's .dockerignore. The
// frontend asks for each through the session with its links followed only
// inside the directory sent (a link out of it finds nothing), so they are
// resolved the same way here. It returns "" when there is none.
func (h *Hasher) ignoreFile(contextDir string, listing []fs.DirEntry, dockerfile string, rec *recorder) (string, readResult, error) {
	type candidate struct{ root, name string }
	candidates := []candidate{{contextDir, ".dockerignore"}}
	if dockerfile != "" {
		candidates = append([]candidate{{path.Dir(dockerfile), path.Base(dockerfile) + ".dockerignore"}}, candidates...)
	}
	for _, c := range candidates {
		full := path.Join(c.root, c.name)
		if c.root == path.Clean(contextDir) && !listed(listing, c.name) {
			continue
		}
		var r readResult
		if c.root == path.Clean(contextDir) {
			r = h.readScoped(c.root, c.name)
		} else {
			// A Dockerfile outside the context is usually shared by many
			// targets: look for its ignore file once.
			r = h.sharedIgnore(c.root, c.name)
		}
		rec.add(r.deps)
		switch {
		case errors.Is(r.err, fs.ErrNotExist):
			continue
		case r.err != nil:
			return "", readResult{}, fmt.Errorf("reading %s: %w", full, r.err)
		case r.mode.IsRegular():
			return full, r, nil
		}
	}
	return "", readResult{}, nil
}

// readScoped reads root/name with symbolic links followed as BuildKit
// follows them in what a session sent: within root, an absolute target
// taken from root, ".." stopping at root. A file it cannot reach so does
// not exist. What it saw of each path it looked at is in the result's deps.
func (h *Hasher) readScoped(root, name string) (r readResult) {
	rec := &recorder{}
	defer func() { r.deps = rec.deps }()
	rel := path.Clean(name)
	for range 40 {
		full := path.Join(root, rel)
		st, err := fs.Lstat(h.fsys, full)
		if err != nil {
			rec.missing(full, err)
			r.err = err
			return r
		}
		rec.info(full, false, st)
		if st.Mode()&fs.ModeSymlink == 0 {
			if !st.Mode().IsRegular() {
				r.mode = st.Mode()
				return r
			}
			r.data, r.mode, r.sig, r.err = h.readRegular(full)
			rec.sig(full, false, r.sig)
			return r
		}
		target, err := fs.ReadLink(h.fsys, full)
		if err != nil {
			r.err = err
			return r
		}
		if !path.IsAbs(target) {
			target = path.Join("/", path.Dir(rel), target)
		}
		rel = strings.TrimPrefix(path.Clean("/"+target), "/")
		if rel == "" {
			r.mode = fs.ModeDir
			return r
		}
	}
	r.err = fmt.Errorf("%s: too many levels of symbolic links", path.Join(root, name))
	return r
}

// listed reports whether a sorted directory listing holds name.
func listed(entries []fs.DirEntry, name string) bool {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].Name() >= name })
	return i < len(entries) && entries[i].Name() == name
}

// sharedIgnore is readScoped, remembered for the run.
func (h *Hasher) sharedIgnore(root, name string) readResult {
	key := path.Join(root, name)
	h.mu.Lock()
	r, ok := h.ignores[key]
	h.mu.Unlock()
	if !ok {
		r = h.readScoped(root, name)
		h.mu.Lock()
		h.ignores[key] = r
		h.mu.Unlock()
	}
	return r
}

// readResult is a file read whole (when regular), and what reading it saw.
type readResult struct {
	data []byte
	mode fs.FileMode
	sig  osfs.Sig
	deps []dep
	err  error
}

// readRegular reads a file whole if it is a regular file, and returns its
// mode either way, and its signature as it was read.
func (h *Hasher) readRegular(name string) ([]byte, fs.FileMode, osfs.Sig, error) {
	f, mode, size, sig, err := h.openStat(name)
	if err != nil {
		return nil, 0, sig, err
	}
	defer f.Close()
	if !mode.IsRegular() {
		return nil, mode, sig, nil
	}
	b := make([]byte, size)
	_, err = io.ReadFull(f, b)
	return b, mode, sig, err
}

// Context returns the digest of a build context: the tree dir filtered by
// the ignore file BuildKit would pick for the Dockerfile (may be ""), and,
// unless reads is nil, to the paths a build reads (a Dockerfile's COPY and
// ADD sources and bind mounts), followed as BuildKit's frontend follows
// them (links resolved, wildcards matched, parents kept); none when reads
// is empty.
func (h *Hasher) Context(dir, dockerfile string, reads []string) (string, error) {
	r := h.digested(dir, dockerfile, reads)
	return r.digest, r.err
}

// digested is the walk of a context, made now unless made or under way.
func (h *Hasher) digested(dir, dockerfile string, reads []string) *result {
	r, key, fresh := h.entry(dir, dockerfile, reads)
	if fresh {
		h.compute(r, key, dir, dockerfile, reads)
	}
	<-r.done
	return r
}

// ReleaseContext is Context for a release build, which sends every file
// with the permission bits git records (filemode.Git), whatever the checkout's
// umask: two checkouts of one commit digest alike.
func (h *Hasher) ReleaseContext(dir, dockerfile string, reads []string) (string, error) {
	r := h.digested(dir, dockerfile, reads)
	return r.release, r.err
}

// Prefetch starts digesting a context in the background, so that the I/O
// overlaps whatever the caller does before it asks Context for the result.
func (h *Hasher) Prefetch(dir, dockerfile string) {
	r, key, fresh := h.entry(dir, dockerfile, nil)
	if !fresh {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.queue = append(h.queue, prefetch{r, key, dir, dockerfile})
	if h.workers < h.maxWorkers {
		h.workers++
		go h.work()
	}
}

// prefetch is a context waiting for a worker.
type prefetch struct {
	r                    *result
	key, dir, dockerfile string
}

// work digests queued contexts, in the order they were asked for, until
// none is left.
func (h *Hasher) work() {
	for {
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.workers--
			h.mu.Unlock()
			return
		}
		p := h.queue[0]
		h.queue[0] = prefetch{}
		h.queue = h.queue[1:]
		h.mu.Unlock()
		h.compute(p.r, p.key, p.dir, p.dockerfile, nil)
	}
}

func (h *Hasher) entry(dir, dockerfile string, reads []string) (*result, string, bool) {
	key := dir + "\x00" + dockerfile
	if reads != nil {
		key += "\x00reads\x00" + strings.Join(reads, "\x00")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.trees[key]; ok {
		return r, key, false
	}
	r := &result{done: make(chan struct{})}
	h.trees[key] = r
	return r, key, true
}

// compute makes a tree's digests, or takes them from the index when what
// they were made from is unchanged, and keeps new ones there.
func (h *Hasher) compute(r *result, key, dir, dockerfile string, reads []string) {
	defer close(r.done)
	if h.index == nil {
		r.digest, r.release, r.err = h.tree(dir, dockerfile, reads, nil, false, nil)
		return
	}
	if e := h.index.lookup(key); e != nil && h.unchanged(dir, e.deps) {
		r.digest, r.release = e.digest, e.release
		h.index.use(key)
		return
	}
	start := h.index.now()
	rec := &recorder{}
	r.digest, r.release, r.err = h.tree(dir, dockerfile, reads, nil, false, rec)
	if r.err == nil && !rec.spoiled && h.index.storable(start, rec.deps) {
		h.index.store(key, &indexEntry{digest: r.digest, release: r.release, deps: distinct(rec.deps)})
	}
}

// unchanged says whether every path the walk of dir saw still looks as it
// did.
func (h *Hasher) unchanged(dir string, deps []dep) bool {
	for _, d := range deps {
		if h.ctx.Err() != nil {
			return false
		}
		var now dep
		if d.path == dir || strings.HasPrefix(d.path, dir) && d.path[len(dir)] == '/' {
			now = h.sigOf(d.path, d.follow)
		} else {
			now = h.sharedSig(d.path, d.follow)
		}
		if now.absent != d.absent || now.sig != d.sig {
			return false
		}
	}
	return true
}

// Saw tells the Hasher what the caller's lstat of path saw this run, when
// path is no link (so its stat is the same): a context directory, which
// the compiler resolves just before asking for its digest. Checking an
// index entry then need not stat it again.
func (h *Hasher) Saw(path string, fi fs.FileInfo) {
	sig, ok := osfs.SigOf(fi)
	if !ok || fi.Mode()&fs.ModeSymlink != 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.saw == nil {
		h.saw = map[string]osfs.Sig{}
	}
	h.saw[path] = sig
}

// sigOf is what path looks like now: its signature, or absent (any other
// failure is a zero signature, which matches nothing kept).
func (h *Hasher) sigOf(path string, follow bool) dep {
	d := dep{path: path, follow: follow}
	h.mu.Lock()
	sig, saw := h.saw[path]
	h.mu.Unlock()
	if saw {
		d.sig = sig
		return d
	}
	var err error
	d.sig, err = h.sigs.Sig(path, follow)
	if errors.Is(err, fs.ErrNotExist) {
		d.absent = true
	}
	return d
}

// sharedSig is sigOf, once a run.
func (h *Hasher) sharedSig(path string, follow bool) dep {
	key := dep{path: path, follow: follow}
	h.mu.Lock()
	d, ok := h.seen[key]
	h.mu.Unlock()
	if ok {
		return d
	}
	d = h.sigOf(path, follow)
	h.mu.Lock()
	h.seen[key] = d
	h.mu.Unlock()
	return d
}

// ContextFiles lists what Context digests, path by path: each included
// file's or symlink's digest. Diffs use it to name the files that changed.
func (h *Hasher) ContextFiles(dir, dockerfile string, reads []string) (map[string]string, error) {
	files := map[string]string{}
	_, _, err := h.tree(dir, dockerfile, reads, files, false, nil)
	return files, err
}

// ReleaseContextFiles is ContextFiles with permission bits as a release
// build sends them (filemode.Git).
func (h *Hasher) ReleaseContextFiles(dir, dockerfile string, reads []string) (map[string]string, error) {
	files := map[string]string{}
	_, _, err := h.tree(dir, dockerfile, reads, files, true, nil)
	return files, err
}

// Includes reports whether a file at rel (relative to dir, which need not
// exist yet) would be part of the context dir that Context digests: the
// ignore rules BuildKit would pick for dockerfile do not exclude it.
func (h *Hasher) Includes(dir, dockerfile, rel string) (bool, error) {
	top, err := fs.ReadDir(h.fsys, dir)
	if err != nil {
		return false, err
	}
	pm, done, err := h.ignoreRules(dir, top, dockerfile)
	if err != nil || pm == nil {
		return err == nil, err
	}
	defer done()
	excluded, err := pm.MatchesOrParentMatches(rel)
	return !excluded, err
}

// ignoreRules returns the compiled rules of the ignore file BuildKit would
// pick for a build of dir with dockerfile, nil when there is none, and the
// function that hands them back for reuse.
func (h *Hasher) ignoreRules(dir string, top []fs.DirEntry, dockerfile string) (*patternmatcher.PatternMatcher, func(), error) {
	name, r, err := h.ignoreFile(dir, top, dockerfile, nil)
	if err != nil || name == "" {
		return nil, nil, err
	}
	// The ignore file is usually part of the context too; remember its
	// digest so a walk need not read it again.
	h.remember(name, fileSum{sum: Bytes(r.data), exec: r.mode&0o111 != 0, sig: r.sig})
	key := string(r.data)
	pm, err := h.matcher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return pm, func() { h.release(key, pm) }, nil
}

// tree digests the directory dir as BuildKit's client sends it: fsutil's
// own filter applies the ignore rules BuildKit's Dockerfile frontend would
// pick for dockerfile (negations, parent directories, the order of rules
// exactly as the frontend's exclude patterns are matched), and every entry
// it keeps is recorded with its type, permission bits (setuid, setgid and
// sticky too: COPY keeps them) and content, or a link's target. Sockets are
// left out; fsutil cannot send them. Entries go in the order fsutil walks.
// rec, unless nil, records every path the walk looks at.
func (h *Hasher) tree(dir, dockerfile string, reads []string, files map[string]string, gitModes bool, rec *recorder) (string, string, error) {
	t := &treeDigest{h: h, dir: dir, d: sha256.New(), rd: sha256.New(), files: files, gitModes: gitModes, rec: rec}
	if reads != nil && len(reads) == 0 {
		// The build reads nothing of it.
		return t.sums()
	}
	if rec != nil {
		// Before the listing: a change after this shows in the directory's
		// times.
		sig, err := h.sigs.Sig(dir, true)
		if err != nil {
			return "", "", err
		}
		rec.sig(dir, true, sig)
	}
	top, err := fs.ReadDir(h.fsys, dir)
	if err != nil {
		return "", "", err
	}
	name, ignore, err := h.ignoreFile(dir, top, dockerfile, rec)
	if err != nil {
		return "", "", err
	}
	if name != "" {
		if t.excludes, err = h.patterns(string(ignore.data)); err != nil {
			return "", "", fmt.Errorf("%s: %w", name, err)
		}
	}
	t.walk = &walker{fsys: h.fsys, root: dir, top: top, rec: rec}
	t.src, err = fsutil.NewFilterFS(t.walk, &fsutil.FilterOpt{ExcludePatterns: t.excludes, FollowPaths: reads})
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", name, err)
	}
	if err := t.src.Walk(h.ctx, "/", t.entry); err != nil {
		return "", "", err
	}
	return t.sums()
}

// treeDigest is one context tree being digested as fsutil sends it.
type treeDigest struct {
	h        *Hasher
	dir      string
	src      fsutil.FS
	excludes []string
	d, rd    hash.Hash // as sent, and as a release sends it
	scratch  []byte    // record's buffer, reused across entries
	files    map[string]string
	gitModes bool
	rec      *recorder
	walk     *walker
}

func (t *treeDigest) sums() (string, string, error) {
	return "sha256:" + hex.EncodeToString(t.d.Sum(nil)), "sha256:" + hex.EncodeToString(t.rd.Sum(nil)), nil
}

// entry records one entry of the walk: its type, permission bits (as the
// file system has them, and as git keeps them), and content or target.
func (t *treeDigest) entry(rel string, e fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	fi, err := e.Info()
	if err != nil {
		return err
	}
	st := fi.Sys().(*types.Stat)
	if len(rel) > MaxPath {
		return fmt.Errorf("%s…: the path is %d bytes long; BuildKit keeps a context under its state directory (/var/lib/buildkit/…/fs/), where a path over about %d bytes fails with \"file name too long\"", rel[:60], len(rel), MaxPath)
	}
	mode := fs.FileMode(st.Mode)
	// fsutil can list a file yet refuse to open it (its walk and its open
	// match the rules differently): BuildKit receives it empty.
	content := mode.IsRegular() && (t.excludes == nil || sendsContent(t.src, rel))
	if !mode.IsDir() && !content && t.rec != nil {
		// A file read is recorded as it was read (regular).
		t.rec.info(path.Join(t.dir, rel), false, t.walk.seen[rel])
	}
	perm, gperm := unixPerm(mode), unixPerm(filemode.Git(mode))
	listed := perm
	if t.gitModes {
		listed = gperm
	}
	both := func(kind string, more ...string) {
		var buf [3]string
		record(t.d, &t.scratch, kind, append(append(buf[:0], rel, perm), more...)...)
		record(t.rd, &t.scratch, kind, append(append(buf[:0], rel, gperm), more...)...)
	}
	list := func(key, value string) {
		if t.files != nil {
			t.files[key] = value
		}
	}
	switch {
	case mode.IsDir():
		both("d")
		list(rel+"/", "dir "+listed)
	case mode&fs.ModeSymlink != 0:
		record(t.d, &t.scratch, "l", rel, st.Linkname)
		record(t.rd, &t.scratch, "l", rel, st.Linkname)
		list(rel, "link:"+st.Linkname)
	case mode.IsRegular():
		sum := Bytes(nil)
		if content {
			if sum, _, err = t.h.regular(path.Join(t.dir, rel), t.rec); err != nil {
				return err
			}
		}
		both("f", sum)
		list(rel, sum+" "+listed)
	case mode&fs.ModeNamedPipe != 0:
		both("p")
		list(rel, "fifo "+listed)
	case mode&fs.ModeDevice != 0:
		both("c", mode.Type().String())
		list(rel, "device "+listed)
	}
	return nil
}

// unixPerm is a mode's permission bits as the file system has them, in
// octal: rwx for all, setuid 04000, setgid 02000, sticky 01000.
func unixPerm(m fs.FileMode) string {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return fmt.Sprintf("%04o", p)
}

// MaxPath is the longest path in a context that plans: BuildKit writes
// the context under a snapshot directory of its own (77 bytes in the test
// environment, about 60 under /var/lib/buildkit), and Linux refuses a
// path over 4,095 bytes. Measured: a 4,082-byte path fails inside
// BuildKit, 4,021 bytes pass; the bound leaves room for longer state
// directories.
const MaxPath = 3900

// walker is an fs.FS directory as fsutil walks one: every entry below
// root but root itself, by path relative to root, each with the stat
// fsutil's filter reads (lstat: links are not followed).
type walker struct {
	fsys fs.FS
	root string
	top  []fs.DirEntry // root's listing, already read
	rec  *recorder     // records each directory listed
	seen map[string]fs.FileInfo
}

func (w *walker) Walk(ctx context.Context, target string, fn fs.WalkDirFunc) error {
	if t := strings.Trim(path.Clean("/"+filepath.ToSlash(target)), "/"); t != "" {
		// One entry and what is below it, as fsutil's link resolution
		// asks (its paths relative to root).
		return w.walkFrom(ctx, t, fn)
	}
	return w.walkDir(ctx, w.root, "", w.top, fn)
}

// walkDir walks the entries of dir (rel to root), depth first.
func (w *walker) walkDir(ctx context.Context, dir, rel string, entries []fs.DirEntry, fn fs.WalkDirFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range entries {
		erel := e.Name()
		if rel != "" {
			erel = rel + "/" + e.Name()
		}
		ep := path.Join(dir, e.Name())
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSocket != 0 {
			continue // fsutil cannot send a socket
		}
		info, err := w.entry(ep, erel, fi)
		if err != nil {
			return err
		}
		switch err := fn(erel, info, nil); {
		case errors.Is(err, fs.SkipDir):
			if !e.IsDir() {
				return nil
			}
			continue
		case err != nil:
			return err
		}
		if e.IsDir() {
			// Seen before it is listed: a change to the listing after
			// this shows in the directory's times.
			w.rec.info(ep, false, fi)
			sub, err := fs.ReadDir(w.fsys, ep)
			if err != nil {
				return err
			}
			if err := w.walkDir(ctx, ep, erel, sub, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkFrom walks target (relative to root) and, for a directory, what is
// below it.
func (w *walker) walkFrom(ctx context.Context, target string, fn fs.WalkDirFunc) error {
	ep := path.Join(w.root, target)
	fi, err := fs.Lstat(w.fsys, ep)
	if err != nil {
		w.rec.missing(ep, err)
		return err
	}
	info, err := w.entry(ep, target, fi)
	if err != nil {
		return err
	}
	switch err := fn(target, info, nil); {
	case errors.Is(err, fs.SkipDir):
		return nil
	case err != nil:
		return err
	}
	if !fi.IsDir() {
		return nil
	}
	w.rec.info(ep, false, fi)
	entries, err := fs.ReadDir(w.fsys, ep)
	if err != nil {
		return err
	}
	return w.walkDir(ctx, ep, target, entries, fn)
}

// entry is what fsutil's filter reads of the entry at ep (rel to root):
// its stat, and a link's target. What the walk saw of an entry that is not
// a directory is kept, for the digest to record if the filter lets it
// through: one it leaves out does not matter as long as its name does not
// change, and a new name shows in its directory's times.
func (w *walker) entry(ep, rel string, fi fs.FileInfo) (*fsutil.DirEntryInfo, error) {
	if w.rec != nil && !fi.IsDir() {
		if w.seen == nil {
			w.seen = map[string]fs.FileInfo{}
		}
		w.seen[rel] = fi
	}
	st := &types.Stat{Path: rel, Mode: uint32(fi.Mode()), Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}
	if fi.Mode()&fs.ModeSymlink != 0 {
		var err error
		if st.Linkname, err = fs.ReadLink(w.fsys, ep); err != nil {
			return nil, err
		}
	}
	return &fsutil.DirEntryInfo{Stat: st}, nil
}

// Open opens nothing: tree calls it through fsutil's filter only to learn
// whether the filter lets a file's content through, and reads the file
// itself.
func (w *walker) Open(string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

// sendsContent says whether fsutil's filter lets the content of a file it
// listed be read.
func sendsContent(src fsutil.FS, rel string) bool {
	rc, err := src.Open(rel)
	if err != nil {
		return false
	}
	rc.Close()
	return true
}

// record writes one entry to a tree digest: its kind, a space, then each
// field followed by a NUL byte.
func record(d io.Writer, scratch *[]byte, kind string, fields ...string) {
	b := append(append((*scratch)[:0], kind...), ' ')
	for _, f := range fields {
		b = append(append(b, f...), 0)
	}
	d.Write(b)
	*scratch = b
}

// regular returns a regular file's digest and whether it is executable:
// from the cache and the entry's mode when it was digested before, else by
// opening it once for both. rec records the file as it was read.
func (h *Hasher) regular(name string, rec *recorder) (string, bool, error) {
	h.mu.Lock()
	f, ok := h.files[name]
	h.mu.Unlock()
	if !ok {
		var err error
		if f, err = h.digestFile(name); err != nil {
			return "", false, err
		}
		h.remember(name, f)
	}
	// Recorded as what lstat would say: a walk reads only what it found
	// to be a regular file, and a link put in its place must show.
	rec.sig(name, false, f.sig)
	return f.sum, f.exec, nil
}

func (h *Hasher) remember(name string, f fileSum) {
	h.mu.Lock()
	h.files[name] = f
	h.mu.Unlock()
}

// matcher returns a pattern matcher for an ignore file's content for the
// caller's sole use until release. Matchers compile their patterns lazily and
// are not safe to share, but contexts often have the same ignore file, so
// compiled ones are kept for reuse.
func (h *Hasher) matcher(content string) (*patternmatcher.PatternMatcher, error) {
	h.mu.Lock()
	if free := h.matchers[content]; len(free) > 0 {
		pm := free[len(free)-1]
		h.matchers[content] = free[:len(free)-1]
		h.mu.Unlock()
		return pm, nil
	}
	h.mu.Unlock()
	patterns, err := ignorefile.ReadAll(strings.NewReader(content))
	if err != nil {
		return nil, err
	}
	return patternmatcher.New(patterns)
}

// patterns are an ignore file's rules, as the frontend reads them.
func (h *Hasher) patterns(content string) ([]string, error) {
	h.mu.Lock()
	p, ok := h.parsed[content]
	h.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := ignorefile.ReadAll(strings.NewReader(content))
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.parsed[content] = p
	h.mu.Unlock()
	return p, nil
}

func (h *Hasher) release(content string, pm *patternmatcher.PatternMatcher) {
	h.mu.Lock()
	h.matchers[content] = append(h.matchers[content], pm)
	h.mu.Unlock()
}
