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

	"github.com/bakeplan/bakeplan/internal/environ"
	"github.com/bakeplan/bakeplan/internal/osfs"
)

// Cache files (the context index, the syntax cache) are one per spec ever
// planned; specs that move or go (a CI runner's checkouts) would leave
// theirs behind for good. A file in use is touched at most once a day, and
// a file untouched for staleAfter is removed when another in its
// directory is written.
const staleAfter = 30 * 24 * time.Hour

// cacheFile is where the cache of a kind (a directory of the cache
// directory) for the spec at specPath is kept, named by the spec's
// absolute path, and the scheme that only this very program reads it
// under; false when there is none to keep: no cache directory, or
// BAKEPLAN_CACHE_DIR=off.
func cacheFile(kind, specPath string, environ []string) (file, scheme string, ok bool) {
	dir := cacheDir(environ)
	abs, err := filepath.Abs(specPath)
	if dir == "" || err != nil {
		return "", "", false
	}
	scheme, ok = programIdentity()
	if !ok {
		return "", "", false
	}
	name := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, kind, hex.EncodeToString(name[:16])), scheme, true
}

// touchCacheFile marks a cache file a run read as in use, when its mark is
// a day old: a run that changes nothing does not rewrite it.
func touchCacheFile(name string, now time.Time) {
	if fi, err := os.Stat(name); err == nil && now.Sub(fi.ModTime()) > 24*time.Hour {
		_ = os.Chtimes(name, now, now)
	}
}

// pruneCacheDir removes the regular files in dir that no run has used for
// staleAfter. Like the caches themselves, it only spares space: a failure
// is not an error of the run.
func pruneCacheDir(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleAfter {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
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

// maxCacheFileSize bounds what is read of a cache file (an index holds about
// 25 million files' worth). A larger file is not one bakeplan wrote, and is
// not read.
const maxCacheFileSize = 1 << 30

// readCacheFile is a cache file's bytes (the index, the syntax cache); nil
// when there is none, it is unreadable or too large (an empty cache).
func readCacheFile(name string) []byte {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() > maxCacheFileSize {
		return nil
	}
	// Sized as the file is: growing a buffer of a megabyte by doubling
	// costs more than reading it. (ReadFrom wants MinRead bytes spare.)
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(f, maxCacheFileSize+1)); err != nil || buf.Len() > maxCacheFileSize {
		return nil
	}
	return buf.Bytes()
}
