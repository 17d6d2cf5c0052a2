// Package inputs computes the digests of what a build reads: single files
// (Dockerfiles) and directory trees (contexts) filtered by .dockerignore
// rules, the way BuildKit filters them before sending a context.
//
// A tree digest covers each included entry's path, type, executable bit and
// content (a symlink's target, not what it points at), so a rename, an edit
// or a chmod +x changes it and a touch does not.
package inputs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Hasher digests files and trees of one fs.FS, remembering what it already
// digested so that targets sharing a context pay for it once.
type Hasher struct {
	fsys fs.FS

	mu    sync.Mutex
	trees map[string]*result
	files map[string]string
	slots chan struct{} // bounds the goroutines Prefetch starts
}

// result is a tree digest that may still be in the making.
type result struct {
	done   chan struct{}
	digest string
	err    error
}

// New returns a Hasher reading fsys.
func New(fsys fs.FS) *Hasher {
	return &Hasher{
		fsys:  fsys,
		trees: map[string]*result{},
		files: map[string]string{},
		slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0)),
	}
}

// File returns the digest of one file's content.
func (h *Hasher) File(name string) (string, error) {
	h.mu.Lock()
	d, ok := h.files[name]
	h.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := h.file(name)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.files[name] = d
	h.mu.Unlock()
	return d, nil
}

func (h *Hasher) file(name string) (string, error) {
	f, err := h.fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d := sha256.New()
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	// The anonymous struct hides WriterTo, which would allocate its own buffer.
	if _, err := io.CopyBuffer(d, struct{ io.Reader }{f}, *buf); err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	return "sha256:" + hex.EncodeToString(d.Sum(nil)), nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// Bytes returns the digest of b, in the form File uses.
func Bytes(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// IgnoreFile picks the ignore file BuildKit would use for a build: the
// Dockerfile's own NAME.dockerignore when it exists, else the context's
// .dockerignore. It returns "" when there is none.
func (h *Hasher) IgnoreFile(contextDir, dockerfile string) string {
	candidates := []string{path.Join(contextDir, ".dockerignore")}
	if dockerfile != "" {
		candidates = append([]string{dockerfile + ".dockerignore"}, candidates...)
	}
	for _, c := range candidates {
		if st, err := fs.Stat(h.fsys, c); err == nil && st.Mode().IsRegular() {
			return c
		}
	}
	return ""
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
	r.digest, r.err = h.tree(dir, h.IgnoreFile(dir, dockerfile), nil)
	close(r.done)
}

// ContextFiles lists what Context digests, path by path: each included
// file's or symlink's digest. Diffs use it to name the files that changed.
func (h *Hasher) ContextFiles(dir, dockerfile string) (map[string]string, error) {
	files := map[string]string{}
	_, err := h.tree(dir, h.IgnoreFile(dir, dockerfile), files)
	return files, err
}

// tree digests the directory dir, leaving out what the ignore file (may be
// "") excludes.
func (h *Hasher) tree(dir, ignoreFile string, files map[string]string) (string, error) {
	var pm *patternmatcher.PatternMatcher
	if ignoreFile != "" {
		b, err := fs.ReadFile(h.fsys, ignoreFile)
		if err != nil {
			return "", err
		}
		patterns, err := ignorefile.ReadAll(bytes.NewReader(b))
		if err != nil {
			return "", fmt.Errorf("%s: %w", ignoreFile, err)
		}
		if pm, err = patternmatcher.New(patterns); err != nil {
			return "", fmt.Errorf("%s: %w", ignoreFile, err)
		}
	}
	d := sha256.New()
	err := fs.WalkDir(h.fsys, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel := p[len(dir)+1:]
		if dir == "." {
			rel = p
		}
		if pm != nil {
			skip, err := pm.MatchesOrParentMatches(rel)
			if err != nil {
				return err
			}
			if skip {
				if e.IsDir() && !pm.Exclusions() {
					return fs.SkipDir
				}
				return nil
			}
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		mode := info.Mode()
		switch {
		case mode.IsDir():
			fmt.Fprintf(d, "d %s\x00", rel)
		case mode&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(h.fsys, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(d, "l %s\x00%s\x00", rel, target)
			if files != nil {
				files[rel] = "link:" + target
			}
		case mode.IsRegular():
			sum, err := h.File(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(d, "f %s\x00%t\x00%s\x00", rel, mode&0o111 != 0, sum)
			if files != nil {
				files[rel] = fmt.Sprintf("%s exec=%t", sum, mode&0o111 != 0)
			}
		default:
			// Sockets, devices and pipes are not sent to BuildKit either.
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(d.Sum(nil)), nil
}
