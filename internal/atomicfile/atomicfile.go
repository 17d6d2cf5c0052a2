// Package atomicfile replaces files so that a reader sees the old content or
// the new, never half of either: plans, metadata and daemon.json.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces name with data through a temporary file in the same
// directory, synced and renamed. An existing file keeps its permissions; a
// new one gets perm. When name is a symbolic link, the file it points at is
// replaced and the link stays. A directory is refused before anything is
// created, and on any error no temporary file is left behind.
func Write(name string, data []byte, perm os.FileMode) error {
	return write(name, data, perm, true)
}

// WriteMode is Write that gives the file perm even when it exists: a backup
// keeps the mode of what it backs up, not of an older backup.
func WriteMode(name string, data []byte, perm os.FileMode) error {
	return write(name, data, perm, false)
}

func write(name string, data []byte, perm os.FileMode, keepMode bool) error {
	name, err := target(name)
	if err != nil {
		return err
	}
	if st, err := os.Stat(name); err == nil {
		if st.IsDir() {
			return fmt.Errorf("%s is a directory", name)
		}
		if keepMode {
			perm = st.Mode().Perm()
		}
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, perm); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// CheckWritable says whether Write could replace name, without changing
// anything: name (or what its link points at) is not a directory, and its
// directory takes a new file.
func CheckWritable(name string) error {
	name, err := target(name)
	if err != nil {
		return err
	}
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a directory", name)
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// target follows name's symbolic links (a chain of them, up to a bound) to
// the path a write should replace. A dangling link leads to the path it
// names, which Write then creates.
func target(name string) (string, error) {
	for range 40 {
		st, err := os.Lstat(name)
		if errors.Is(err, os.ErrNotExist) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
		if st.Mode()&os.ModeSymlink == 0 {
			return name, nil
		}
		link, err := os.Readlink(name)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(name), link)
		}
		name = link
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", name)
}
