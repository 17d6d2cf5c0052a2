package gitfs

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"path"
	"strings"
)

// WorkTreeFS is the working tree as a diff against a revision sees it: the
// same files minus the repository's own .git directory, which no revision
// holds. fsys is the machine's file system rooted at "/" and top the
// repository's top directory; the methods fsys has (ReadDir, Stat, Lstat,
// ReadLink, and OpenStat, a cheaper open) pass through.
type WorkTreeFS struct {
	fsys fs.FS
	git  string // top/.git, relative to fsys
}

// HideGitDir returns fsys without top's .git directory.
func HideGitDir(fsys fs.FS, top string) *WorkTreeFS {
	return &WorkTreeFS{fsys: fsys, git: path.Join(strings.TrimPrefix(top, "/"), ".git")}
}

func (w *WorkTreeFS) hidden(name string) bool {
	return name == w.git || strings.HasPrefix(name, w.git+"/")
}

func notExist(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
}

func (w *WorkTreeFS) Open(name string) (fs.File, error) {
	if w.hidden(name) {
		return nil, notExist("open", name)
	}
	return w.fsys.Open(name)
}

func (w *WorkTreeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if w.hidden(name) {
		return nil, notExist("readdir", name)
	}
	entries, err := fs.ReadDir(w.fsys, name)
	if err != nil || path.Join(name, ".git") != w.git {
		return entries, err
	}
	out := entries[:0:0]
	for _, e := range entries {
		if e.Name() != ".git" {
			out = append(out, e)
		}
	}
	return out, nil
}

func (w *WorkTreeFS) Stat(name string) (fs.FileInfo, error) {
	if w.hidden(name) {
		return nil, notExist("stat", name)
	}
	return fs.Stat(w.fsys, name)
}

func (w *WorkTreeFS) Lstat(name string) (fs.FileInfo, error) {
	if w.hidden(name) {
		return nil, notExist("lstat", name)
	}
	return fs.Lstat(w.fsys, name)
}

func (w *WorkTreeFS) ReadLink(name string) (string, error) {
	if w.hidden(name) {
		return "", notExist("readlink", name)
	}
	return fs.ReadLink(w.fsys, name)
}

func (w *WorkTreeFS) ReadFile(name string) ([]byte, error) {
	if w.hidden(name) {
		return nil, notExist("readfile", name)
	}
	return fs.ReadFile(w.fsys, name)
}

// OpenStat opens a file and returns its mode and size, through the
// underlying file system's cheaper open when it has one.
func (w *WorkTreeFS) OpenStat(name string) (io.ReadCloser, fs.FileMode, int64, error) {
	if w.hidden(name) {
		return nil, 0, 0, notExist("open", name)
	}
	if o, ok := w.fsys.(interface {
		OpenStat(string) (io.ReadCloser, fs.FileMode, int64, error)
	}); ok {
		return o.OpenStat(name)
	}
	f, err := w.fsys.Open(name)
	if err != nil {
		return nil, 0, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, 0, err
	}
	return f, fi.Mode(), fi.Size(), nil
}

// NotCommitted says which paths (relative to top) of the working tree at
// top no commit holds: untracked files, and those git ignores (whole
// ignored directories are asked once, not listed file by file).
func NotCommitted(ctx context.Context, top string) (func(string) bool, error) {
	untracked, err := git(ctx, top, "ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	ignored, err := git(ctx, top, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
	if err != nil {
		return nil, err
	}
	files := map[string]bool{}
	var dirs []string
	for _, list := range [][]byte{untracked, ignored} {
		for _, p := range bytes.Split(list, []byte{0}) {
			switch {
			case len(p) == 0:
			case p[len(p)-1] == '/':
				dirs = append(dirs, string(p))
			default:
				files[string(p)] = true
			}
		}
	}
	return func(p string) bool {
		if files[p] {
			return true
		}
		for _, d := range dirs {
			if strings.HasPrefix(p, d) {
				return true
			}
		}
		return false
	}, nil
}
