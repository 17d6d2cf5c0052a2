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
	r, sig, err := f.OpenSig(name)
	if err != nil {
		return nil, 0, 0, err
	}
	return r, sig.FileMode(), sig.Size, nil
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

// Sig returns the signature of name: of the link itself unless follow.
// It allocates nothing, so checking thousands of files stays cheap.
func (f *FS) Sig(name string, follow bool) (Sig, error) {
	full, err := f.join("lstat", name)
	if err != nil {
		return Sig{}, err
	}
	var st syscall.Stat_t
	err = retry(func() error {
		if follow {
			return syscall.Stat(full, &st)
		}
		return syscall.Lstat(full, &st)
	})
	if err != nil {
		return Sig{}, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	return sigOf(&st), nil
}

// OpenSig is OpenStat that returns the open file's signature.
func (f *FS) OpenSig(name string) (io.ReadCloser, Sig, error) {
	full, err := f.join("open", name)
	if err != nil {
		return nil, Sig{}, err
	}
	var fd int
	err = retry(func() (err error) {
		fd, err = syscall.Open(full, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, Sig{}, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var st syscall.Stat_t
	if err := retry(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		syscall.Close(fd)
		return nil, Sig{}, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return &rawFile{fd: fd, name: name}, sigOf(&st), nil
}

// SigOf is the signature in a FileInfo that a stat of the machine's file
// system returned (os.Lstat, a DirEntry's Info), if it is one.
func SigOf(fi fs.FileInfo) (Sig, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return Sig{}, false
	}
	return sigOf(st), true
}

// FileMode is the fs.FileMode of a Sig's mode.
func (s Sig) FileMode() fs.FileMode { return fileMode(s.Mode) }

func sigOf(st *syscall.Stat_t) Sig {
	return Sig{
		Dev: uint64(st.Dev), Ino: uint64(st.Ino), Mode: uint32(st.Mode), Size: st.Size,
		Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(),
	}
}
