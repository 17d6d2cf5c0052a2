// Package inputs computes the digests of what a build reads: single files
// (Dockerfiles) and directory trees (contexts) filtered by .dockerignore
// rules, the way BuildKit filters them before sending a context.
//
// A tree digest covers each included entry's path, type, executable bit and
// content (a symlink's target, not what it points at), so a rename, an edit
// or a chmod +x changes it and a touch does not.
package inputs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
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
	slots    chan struct{}         // bounds the goroutines Prefetch starts
}

// fileSum is a file's digest and executable bit.
type fileSum struct {
	sum  string
	exec bool
}

// result is a tree digest that may still be in the making.
type result struct {
	done   chan struct{}
	digest string
	err    error
}

// New returns a Hasher reading fsys.
func New(fsys fs.FS) *Hasher { return NewContext(context.Background(), fsys) }

// NewContext returns a Hasher reading fsys that stops walking a tree, with
// ctx's error, once ctx is done: a large context takes seconds to digest.
func NewContext(ctx context.Context, fsys fs.FS) *Hasher {
	return &Hasher{
		ctx:      ctx,
		fsys:     fsys,
		trees:    map[string]*result{},
		files:    map[string]fileSum{},
		matchers: map[string][]*patternmatcher.PatternMatcher{},
		ignores:  map[string]readResult{},
		slots:    make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
	}
}

// File returns the digest of one file's content.
func (h *Hasher) File(name string) (string, error) {
	sum, _, err := h.regular(name)
	return sum, err
}

// statOpener is a file system that opens a file and stats it more cheaply
// than Open and Stat do (the machine's own, see internal/osfs).
type statOpener interface {
	OpenStat(name string) (io.ReadCloser, fs.FileMode, int64, error)
}

// openStat opens a file and returns it with its mode and size.
func (h *Hasher) openStat(name string) (io.ReadCloser, fs.FileMode, int64, error) {
	if o, ok := h.fsys.(statOpener); ok {
		return o.OpenStat(name)
	}
	f, err := h.fsys.Open(name)
	if err != nil {
		return nil, 0, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, 0, err
	}
	return f, st.Mode(), st.Size(), nil
}

// digestFile digests a regular file and says whether it is executable.
func (h *Hasher) digestFile(name string) (string, bool, error) {
	f, mode, size, err := h.openStat(name)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	if !mode.IsRegular() {
		return "", false, &fs.PathError{Op: "read", Path: name, Err: errNotRegular}
	}
	sum, err := digest(f, size)
	if err != nil {
		return "", false, fmt.Errorf("reading %s: %w", name, err)
	}
	return sum, mode&0o111 != 0, nil
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

// ignoreFile reads the ignore file BuildKit would use for a build: the
// Dockerfile's own NAME.dockerignore when it exists, else the context's
// .dockerignore. It returns "" when there is none. Candidates in the
// context directory are looked up in its listing, others opened directly.
func (h *Hasher) ignoreFile(contextDir string, listing []fs.DirEntry, dockerfile string) (string, []byte, fs.FileMode, error) {
	candidates := []string{path.Join(contextDir, ".dockerignore")}
	if dockerfile != "" {
		candidates = append([]string{dockerfile + ".dockerignore"}, candidates...)
	}
	for _, c := range candidates {
		if path.Dir(c) == path.Clean(contextDir) && !listed(listing, path.Base(c)) {
			continue
		}
		var b []byte
		var mode fs.FileMode
		var err error
		if path.Dir(c) == path.Clean(contextDir) {
			b, mode, err = h.readRegular(c)
		} else {
			// A Dockerfile outside the context is usually shared by many
			// targets: look for its ignore file once.
			b, mode, err = h.sharedIgnore(c)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", nil, 0, fmt.Errorf("reading %s: %w", c, err)
		case mode.IsRegular():
			return c, b, mode, nil
		}
	}
	return "", nil, 0, nil
}

// listed reports whether a sorted directory listing holds name.
func listed(entries []fs.DirEntry, name string) bool {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].Name() >= name })
	return i < len(entries) && entries[i].Name() == name
}

// readRegular reads a file whole if it is a regular file, and returns its
// mode either way.
// sharedIgnore is readRegular, remembered for the run.
func (h *Hasher) sharedIgnore(name string) ([]byte, fs.FileMode, error) {
	h.mu.Lock()
	r, ok := h.ignores[name]
	h.mu.Unlock()
	if !ok {
		r.data, r.mode, r.err = h.readRegular(name)
		h.mu.Lock()
		h.ignores[name] = r
		h.mu.Unlock()
	}
	return r.data, r.mode, r.err
}

type readResult struct {
	data []byte
	mode fs.FileMode
	err  error
}

func (h *Hasher) readRegular(name string) ([]byte, fs.FileMode, error) {
	f, mode, size, err := h.openStat(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	if !mode.IsRegular() {
		return nil, mode, nil
	}
	b := make([]byte, size)
	_, err = io.ReadFull(f, b)
	return b, mode, err
}

// Context returns the digest of a build context: the tree dir filtered by
// the ignore file BuildKit would pick for the Dockerfile (may be "").
func (h *Hasher) Context(dir, dockerfile string) (string, error) {
	r, fresh := h.entry(dir, dockerfile)
	if fresh {
		h.compute(r, dir, dockerfile)
	}
	<-r.done
	return r.digest, r.err
}

// Prefetch starts digesting a context in the background, so that the I/O
// overlaps whatever the caller does before it asks Context for the result.
func (h *Hasher) Prefetch(dir, dockerfile string) {
	r, fresh := h.entry(dir, dockerfile)
	if !fresh {
		return
	}
	go func() {
		h.slots <- struct{}{}
		defer func() { <-h.slots }()
		h.compute(r, dir, dockerfile)
	}()
}

func (h *Hasher) entry(dir, dockerfile string) (*result, bool) {
	key := dir + "\x00" + dockerfile
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.trees[key]; ok {
		return r, false
	}
	r := &result{done: make(chan struct{})}
	h.trees[key] = r
	return r, true
}

func (h *Hasher) compute(r *result, dir, dockerfile string) {
	r.digest, r.err = h.tree(dir, dockerfile, nil)
	close(r.done)
}

// ContextFiles lists what Context digests, path by path: each included
// file's or symlink's digest. Diffs use it to name the files that changed.
func (h *Hasher) ContextFiles(dir, dockerfile string) (map[string]string, error) {
	files := map[string]string{}
	_, err := h.tree(dir, dockerfile, files)
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
	name, data, mode, err := h.ignoreFile(dir, top, dockerfile)
	if err != nil || name == "" {
		return nil, nil, err
	}
	// The ignore file is usually part of the context too; remember its
	// digest so a walk need not read it again.
	h.remember(name, Bytes(data), mode&0o111 != 0)
	key := string(data)
	pm, err := h.matcher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return pm, func() { h.release(key, pm) }, nil
}

// tree digests the directory dir, leaving out what the ignore file BuildKit
// would pick for dockerfile excludes. Entries go in fs.WalkDir's order:
// depth first, each directory's names sorted.
func (h *Hasher) tree(dir, dockerfile string, files map[string]string) (string, error) {
	top, err := fs.ReadDir(h.fsys, dir)
	if err != nil {
		return "", err
	}
	pm, done, err := h.ignoreRules(dir, top, dockerfile)
	if err != nil {
		return "", err
	}
	if pm != nil {
		defer done()
	}
	d := sha256.New()
	var scratch []byte // record's buffer, reused across entries
	var walk func(p, rel string) error
	walk = func(p, rel string) error {
		entries := top
		if p != dir {
			var err error
			if entries, err = fs.ReadDir(h.fsys, p); err != nil {
				return err
			}
		}
		if err := h.ctx.Err(); err != nil {
			return err
		}
		for _, e := range entries {
			ep, erel := p+"/"+e.Name(), e.Name()
			if p == "." {
				ep = e.Name()
			}
			if rel != "" {
				erel = rel + "/" + e.Name()
			}
			if pm != nil {
				skip, err := pm.MatchesOrParentMatches(erel)
				if err != nil {
					return err
				}
				if skip {
					// With exclusions ("!pattern") something below an
					// ignored directory may still be included.
					if e.IsDir() && pm.Exclusions() {
						if err := walk(ep, erel); err != nil {
							return err
						}
					}
					continue
				}
			}
			switch t := e.Type(); {
			case t.IsDir():
				record(d, &scratch, "d", erel)
				if err := walk(ep, erel); err != nil {
					return err
				}
			case t&fs.ModeSymlink != 0:
				target, err := fs.ReadLink(h.fsys, ep)
				if err != nil {
					return err
				}
				record(d, &scratch, "l", erel, target)
				if files != nil {
					files[erel] = "link:" + target
				}
			case t.IsRegular():
				sum, exec, err := h.regular(ep)
				if err != nil {
					return err
				}
				record(d, &scratch, "f", erel, strconv.FormatBool(exec), sum)
				if files != nil {
					files[erel] = fmt.Sprintf("%s exec=%t", sum, exec)
				}
			default:
				// Sockets, devices and pipes are not sent to BuildKit either.
			}
		}
		return nil
	}
	if err := walk(dir, ""); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(d.Sum(nil)), nil
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
// opening it once for both.
func (h *Hasher) regular(name string) (string, bool, error) {
	h.mu.Lock()
	f, ok := h.files[name]
	h.mu.Unlock()
	if ok {
		return f.sum, f.exec, nil
	}
	sum, exec, err := h.digestFile(name)
	if err != nil {
		return "", false, err
	}
	h.remember(name, sum, exec)
	return sum, exec, nil
}

func (h *Hasher) remember(name, sum string, exec bool) {
	h.mu.Lock()
	h.files[name] = fileSum{sum, exec}
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

func (h *Hasher) release(content string, pm *patternmatcher.PatternMatcher) {
	h.mu.Lock()
	h.matchers[content] = append(h.matchers[content], pm)
	h.mu.Unlock()
}
