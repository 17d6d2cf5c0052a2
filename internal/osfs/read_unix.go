//go:build unix

package osfs

import (
	"io"
	"io/fs"
	"syscall"
)

// OpenStat opens a file for reading, following symbolic links as os.Open
// does, and returns it with its mode and size.
func (f *FS) OpenStat(name string) (io.ReadCloser, fs.FileMode, int64, error) {
	full, err := f.join("open", name)
	if err != nil {
		return nil, 0, 0, err
	}
	var fd int
	err = retry(func() (err error) {
		fd, err = syscall.Open(full, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, 0, 0, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var st syscall.Stat_t
	if err := retry(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		syscall.Close(fd)
		return nil, 0, 0, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return &rawFile{fd: fd, name: name}, fileMode(uint32(st.Mode)), st.Size, nil
}

// rawFile reads a file descriptor with plain system calls.
type rawFile struct {
	fd   int
	name string
}

func (r *rawFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	err := retry(func() (err error) {
		n, err = syscall.Read(r.fd, p)
		return err
	})
	switch {
	case err != nil:
		return 0, &fs.PathError{Op: "read", Path: r.name, Err: err}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (r *rawFile) Close() error {
	if err := syscall.Close(r.fd); err != nil {
		return &fs.PathError{Op: "close", Path: r.name, Err: err}
	}
	return nil
}

func retry(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		mode |= fs.ModeDir
	case syscall.S_IFLNK:
		mode |= fs.ModeSymlink
	case syscall.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		mode |= fs.ModeSocket
	case syscall.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&syscall.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
