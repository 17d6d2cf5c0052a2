//go:build !unix

package osfs

import (
	"io"
	"io/fs"
	"os"
)

// OpenStat opens a file for reading and returns it with its mode and size.
func (f *FS) OpenStat(name string) (io.ReadCloser, fs.FileMode, int64, error) {
	full, err := f.join("open", name)
	if err != nil {
		return nil, 0, 0, err
	}
	file, err := os.Open(full)
	if err != nil {
		return nil, 0, 0, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, 0, err
	}
	return file, st.Mode(), st.Size(), nil
}
