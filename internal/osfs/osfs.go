// Package osfs is the machine's file system as an fs.FS, like os.DirFS,
// with a cheaper way to open a file for reading.
//
// Opening a file through package os registers it with the runtime's poller,
// which on Linux costs four fcntl calls and a failing epoll_ctl for a
// regular file on top of the open. Digesting the thousands of small files of
// a large spec's contexts made more of those calls than of the open, read
// and close it needs; OpenStat makes only those, and an fstat. It exists on
// Unix systems only: elsewhere callers use Open and Stat as for any fs.FS.
package osfs

import (
	"io/fs"
	"os"
	"path"
)

// FS is a directory tree of the machine's file system.
type FS struct {
	dirFS
	root string
}

// dirFS is what os.DirFS offers; naming it keeps the methods promoted.
type dirFS interface {
	fs.ReadFileFS
	fs.ReadDirFS
	fs.StatFS
	fs.ReadLinkFS
}

// New returns the tree rooted at dir, as os.DirFS(dir) would.
func New(dir string) *FS { return &FS{dirFS: os.DirFS(dir).(dirFS), root: dir} }

func (f *FS) join(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return path.Join(f.root, name), nil
}
