// Package atomicfile replaces files so that a reader sees the old content or
// the new, never half of either: plans, metadata and daemon.json.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces name with data through a temporary file in the same
// directory, synced and renamed. An existing file keeps its permissions; a
// new one gets perm.
func Write(name string, data []byte, perm os.FileMode) error {
	if st, err := os.Stat(name); err == nil {
		perm = st.Mode().Perm()
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
