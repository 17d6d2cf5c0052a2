// Package realpath resolves symbolic links inside an fs.FS, the way
// filepath.EvalSymlinks does on the machine's file system, so that a path's
// checks (is it inside the spec's directory?) apply to what a build will
// really read, not to the name it was given by.
package realpath

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// maxLinks bounds the links followed for one path, as the kernel's ELOOP
// does, so a cycle of links ends.
const maxLinks = 40

// ErrLoop is returned for a path whose links do not end.
var ErrLoop = errors.New("too many levels of symbolic links")

// Resolve returns name with every symbolic link among its components
// replaced by what it points at. name and the result are fs.ValidPath
// paths; an absolute link target counts from the FS's root. Components that
// do not exist are kept as they are, so the path a build will create (an
// output directory) resolves too. An FS that cannot read links is returned
// name unchanged.
func Resolve(fsys fs.FS, name string) (string, error) {
	lfs, ok := fsys.(fs.ReadLinkFS)
	if !ok {
		return name, nil
	}
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "resolve", Path: name, Err: fs.ErrInvalid}
	}
	rest := strings.Split(name, "/")
	if name == "." {
		rest = nil
	}
	done := "."
	links := 0
	for len(rest) > 0 {
		comp := rest[0]
		rest = rest[1:]
		switch comp {
		case ".", "":
			continue
		case "..":
			// Lexically, as the links before it were already resolved.
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, comp)
		info, err := lfs.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			done = path.Join(append([]string{next}, rest...)...)
			return done, nil
		}
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		links++
		if links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: ErrLoop}
		}
		target, err := lfs.ReadLink(next)
		if err != nil {
			return "", err
		}
		if target == "" {
			return "", fmt.Errorf("%s: empty symbolic link", next)
		}
		if path.IsAbs(target) {
			done = "."
			target = strings.TrimPrefix(target, "/")
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return done, nil
}

// Cache resolves many paths of one FS, remembering every directory it
// resolved: the contexts and Dockerfiles of a large spec share most of
// their prefixes, and resolving each path from the root cost an lstat per
// component per path. It is safe for concurrent use.
type Cache struct {
	fsys fs.FS
	mu   sync.Mutex
	m    map[string]string
	info map[string]fs.FileInfo // what the lstat of a resolved path saw
}

// NewCache returns a Cache over fsys.
func NewCache(fsys fs.FS) *Cache {
	return &Cache{fsys: fsys, m: map[string]string{}, info: map[string]fs.FileInfo{}}
}

// Info is what resolving saw of real, a path Resolve returned that is not
// a link: its lstat, which for such a path is its stat too. A caller that
// would stat it next need not.
func (c *Cache) Info(real string) (fs.FileInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fi, ok := c.info[real]
	return fi, ok
}

// Resolve is the package's Resolve, remembered.
func (c *Cache) Resolve(name string) (string, error) {
	lfs, ok := c.fsys.(fs.ReadLinkFS)
	if !ok || name == "." {
		return name, nil
	}
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "resolve", Path: name, Err: fs.ErrInvalid}
	}
	c.mu.Lock()
	r, ok := c.m[name]
	c.mu.Unlock()
	if ok {
		return r, nil
	}
	dir, base := path.Dir(name), path.Base(name)
	parent, err := c.Resolve(dir)
	if err != nil {
		return "", err
	}
	next := path.Join(parent, base)
	info, err := lfs.Lstat(next)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r = next
	case err != nil:
		return "", err
	case info.Mode()&fs.ModeSymlink != 0:
		if r, err = Resolve(c.fsys, next); err != nil {
			return "", err
		}
	default:
		r = next
	}
	c.mu.Lock()
	c.m[name] = r
	if err == nil && info.Mode()&fs.ModeSymlink == 0 {
		c.info[r] = info
	}
	c.mu.Unlock()
	return r, nil
}
