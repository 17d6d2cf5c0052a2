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
	"sync"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Hasher digests files and trees of one fs.FS, remembering what it already
// digested so that targets sharing a context pay for it once.
type Hasher struct {
	fsys fs.FS

	mu    sync.Mutex
	trees map[string]string
}

// New returns a Hasher reading fsys.
func New(fsys fs.FS) *Hasher {
	return &Hasher{fsys: fsys, trees: map[string]string{}}
}

// File returns the digest of one file's content.
func (h *Hasher) File(name string) (string, error) {
	f, err := h.fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d := sha256.New()
	if _, err := io.Copy(d, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	return "sha256:" + hex.EncodeToString(d.Sum(nil)), nil
}

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

// Tree returns the digest of the directory dir, leaving out what the ignore
// file (may be "") excludes.
func (h *Hasher) Tree(dir, ignoreFile string) (string, error) {
	key := dir + "\x00" + ignoreFile
	h.mu.Lock()
	if d, ok := h.trees[key]; ok {
		h.mu.Unlock()
		return d, nil
	}
	h.mu.Unlock()

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
		case mode.IsRegular():
			sum, err := h.File(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(d, "f %s\x00%t\x00%s\x00", rel, mode&0o111 != 0, sum)
		default:
			// Sockets, devices and pipes are not sent to BuildKit either.
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sum := "sha256:" + hex.EncodeToString(d.Sum(nil))
	h.mu.Lock()
	h.trees[key] = sum
	h.mu.Unlock()
	return sum, nil
}
