package project

import (
	"os"
	"path/filepath"
	"time"
)

// Cache files (the context index, the syntax cache) are one per spec ever
// planned; specs that move or go (a CI runner's checkouts) would leave
// theirs behind for good. A file in use is touched at most once a day, and
// a file untouched for staleAfter is removed when another in its
// directory is written.
const staleAfter = 30 * 24 * time.Hour

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
