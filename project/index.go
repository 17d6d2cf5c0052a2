package project

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/internal/environ"
	"github.com/bakeplan/bakeplan/internal/osfs"
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
	dir := cacheDir(environ)
	abs, err := filepath.Abs(specPath)
	if dir == "" || err != nil {
		return nil
	}
	scheme, ok := programIdentity()
	if !ok {
		return nil
	}
	name := sha256.Sum256([]byte(abs))
	c := &contextIndex{
		file:   filepath.Join(dir, "contexts", hex.EncodeToString(name[:16])),
		scheme: scheme,
	}
	c.ix = inputs.ReadIndex(readCacheFile(c.file), scheme, nil)
	touchCacheFile(c.file, time.Now())
	return c
}

// maxIndexSize bounds what is read of a cache file (an index holds about
// 25 million files' worth). A larger file is not one bakeplan wrote, and is
// not read.
const maxIndexSize = 1 << 30

// readCacheFile is a cache file's bytes (the index, the syntax cache); nil
// when there is none, it is unreadable or too large (an empty cache).
func readCacheFile(name string) []byte {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() > maxIndexSize {
		return nil
	}
	// Sized as the file is: growing a buffer of a megabyte by doubling
	// costs more than reading it. (ReadFrom wants MinRead bytes spare.)
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, maxIndexSize+1)); err != nil || buf.Len() > maxIndexSize {
		return nil
	}
	return buf.Bytes()
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

// cacheDir is bakeplan's cache directory: $BAKEPLAN_CACHE_DIR, else
// bakeplan under $XDG_CACHE_HOME or ~/.cache, as os.UserCacheDir finds it
// but from the request's environment; "" when caching is off.
func cacheDir(env []string) string {
	if d, ok := environ.Lookup(env, "BAKEPLAN_CACHE_DIR"); ok && d != "" {
		if d == "off" {
			return ""
		}
		return d
	}
	if d, _ := environ.Lookup(env, "XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "bakeplan")
	}
	if h, _ := environ.Lookup(env, "HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".cache", "bakeplan")
	}
	return ""
}

// programIdentity names this build of bakeplan by its executable's path
// and signature: a rebuilt or reinstalled program starts a new
// index.
func programIdentity() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "", false
	}
	sig, ok := osfs.SigOf(fi)
	return fmt.Sprintf("%s %+v", exe, sig), ok
}
