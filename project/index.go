package project

import (
	"os"
	"path/filepath"
	"time"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
)

// contextIndex is the index of context digests kept for one spec between
// runs (inputs.Index), and where it lives.
type contextIndex struct {
	ix     *inputs.Index
	file   string
	scheme string
}

// openIndex reads the context index kept for the spec at specPath (on
// disk), or nil when there is none to keep: no cache directory, or
// BAKEPLAN_CACHE_DIR=off. The index is named by the spec's absolute path,
// and only this very program reads it: another build of bakeplan may
// digest differently.
func openIndex(specPath string, environ []string) *contextIndex {
	file, scheme, ok := cacheFile("contexts", specPath, environ)
	if !ok {
		return nil
	}
	c := &contextIndex{file: file, scheme: scheme}
	c.ix = inputs.ReadIndex(readCacheFile(c.file), scheme, nil)
	touchCacheFile(c.file, time.Now())
	return c
}

// save writes the index back when the run changed it. The index only
// spares work, so failing to write it is not an error of the run.
func (c *contextIndex) save() {
	if c == nil || !c.ix.Changed() {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.file), 0o700); err != nil {
		return
	}
	_ = atomicfile.Write(c.file, c.ix.MarshalBinary(c.scheme), 0o600)
	pruneCacheDir(filepath.Dir(c.file), time.Now())
}

func (c *contextIndex) index() *inputs.Index {
	if c == nil {
		return nil
	}
	return c.ix
}
