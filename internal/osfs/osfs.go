// Package osfs is the machine's file system as an fs.FS, like os.DirFS,
// with a cheaper way to open a file for reading, and with file names that
// are not UTF-8.
//
// Opening a file through package os registers it with the runtime's poller,
// which on Linux costs four fcntl calls and a failing epoll_ctl for a
// regular file on top of the open. Digesting the thousands of small files of
// a large spec's contexts made more of those calls than of the open, read
// and close it needs; OpenStat makes only those, and an fstat. It exists on
// Unix systems only: elsewhere callers use Open and Stat as for any fs.FS.
//
// io/fs (and so os.DirFS) refuses names that are not valid UTF-8, but a
// Linux file name is any bytes, and BuildKit sends such files with a
// context; a context holding one must be digested like any other, so these
// names are accepted here, byte for byte.
package osfs

import (
	"io/fs"
	"os"
	"path"
)

// FS is a directory tree of the machine's file system.
type FS struct {
	root string
}

// New returns the tree rooted at dir, as os.DirFS(dir) would.
func New(dir string) *FS { return &FS{root: dir} }

// validPath is fs.ValidPath without its UTF-8 rule: unrooted, slash
// separated, with no empty, "." or ".." element (but "." alone).
func validPath(name string) bool {
	if name == "." {
		return true
	}
	for {
		i := 0
		for i < len(name) && name[i] != '/' {
			i++
		}
		if elem := name[:i]; elem == "" || elem == "." || elem == ".." {
			return false
		}
		if i == len(name) {
			return true
		}
		name = name[i+1:]
	}
}

func (f *FS) join(op, name string) (string, error) {
	if !validPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return path.Join(f.root, name), nil
}

func (f *FS) Open(name string) (fs.File, error) {
	full, err := f.join("open", name)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(full)
	if err != nil {
		return nil, rename(err, name)
	}
	return file, nil
}

func (f *FS) ReadFile(name string) ([]byte, error) {
	full, err := f.join("readfile", name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(full)
	return b, rename(err, name)
}

func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	full, err := f.join("readdir", name)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(full)
	return entries, rename(err, name)
}

func (f *FS) Stat(name string) (fs.FileInfo, error) {
	full, err := f.join("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(full)
	return fi, rename(err, name)
}

func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	full, err := f.join("lstat", name)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(full)
	return fi, rename(err, name)
}

func (f *FS) ReadLink(name string) (string, error) {
	full, err := f.join("readlink", name)
	if err != nil {
		return "", err
	}
	s, err := os.Readlink(full)
	return s, rename(err, name)
}

// rename reports a path error with the name the caller gave, as os.DirFS
// does, not the machine path.
func rename(err error, name string) error {
	if pe, ok := err.(*fs.PathError); ok {
		pe.Path = name
	}
	return err
}
