package inputs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/bakeplan/bakeplan/internal/osfs"
)

// Index remembers context digests between runs, as git's index remembers
// file hashes: each digest is kept with what its walk saw of the file
// system, every directory it listed and every file it stat'ed or read
// (absent ones too), by signature (osfs.Sig). A digest is reused only when
// every one of those paths has the same signature again; otherwise the
// context is walked as if the index did not exist. The files BuildKit
// would receive are a function of exactly what the walk saw, so an equal
// sighting gives an equal digest.
//
// A change made within the file system's timestamp granularity of the
// walk that saw a file could leave its signature unchanged, so a walk
// that saw any time newer than RacyWindow before it began is not kept.
type Index struct {
	mu      sync.Mutex
	entries map[string]*indexEntry
	changed bool
	now     func() time.Time
}

// RacyWindow is how old every time a walk sees must be for its digest to
// be kept: more than the coarsest timestamps of common file systems
// (FAT's two seconds), so that nothing written after the walk can share a
// time with what the walk saw.
const RacyWindow = 2 * time.Second

// keepFor is how long an entry no run used stays in the index.
const keepFor = 30 * 24 * time.Hour

type indexEntry struct {
	digest, release string
	deps            []dep
	used            int64 // unix seconds of the last run that used it
}

// dep is one path a walk saw, and what it saw.
type dep struct {
	path   string
	follow bool // stat, not lstat
	absent bool
	sig    osfs.Sig
}

// NewIndex returns an empty index that tells time by now (time.Now when
// nil); tests move it to make fresh files old.
func NewIndex(now func() time.Time) *Index {
	if now == nil {
		now = time.Now
	}
	return &Index{entries: map[string]*indexEntry{}, now: now}
}

// Changed reports whether a run added to the index or used it, so that it
// is worth writing back.
func (ix *Index) Changed() bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.changed
}

// Len is the number of digests the index holds.
func (ix *Index) Len() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return len(ix.entries)
}

func (ix *Index) lookup(key string) *indexEntry {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.entries[key]
}

// used marks an entry as used by this run; a day's precision is enough to
// age entries out, and keeps an unchanged index from being rewritten on
// every run.
func (ix *Index) use(key string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	e, now := ix.entries[key], ix.now().Unix()
	if e != nil && now-e.used > 24*3600 {
		e.used = now
		ix.changed = true
	}
}

func (ix *Index) store(key string, e *indexEntry) {
	e.used = ix.now().Unix()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.entries[key] = e
	ix.changed = true
}

// distinct drops repeated deps, keeping the first of each: a walk looks
// at some paths more than once (a context's ignore file is read, then
// walked), and checking an entry stats each dep. A path seen with two
// signatures stays twice: it changed during the walk, and the entry will
// not match.
func distinct(deps []dep) []dep {
	seen := make(map[dep]struct{}, len(deps))
	out := deps[:0]
	for _, d := range deps {
		if _, dup := seen[d]; !dup {
			seen[d] = struct{}{}
			out = append(out, d)
		}
	}
	return out
}

// storable says whether a walk that began at start saw only times old
// enough to trust.
func (ix *Index) storable(start time.Time, deps []dep) bool {
	limit := start.Add(-RacyWindow).UnixNano()
	for _, d := range deps {
		if !d.absent && (d.sig.Mtime >= limit || d.sig.Ctime >= limit) {
			return false
		}
	}
	return true
}

// indexMagic starts an encoded index; the version changes with the format
// or with what a digest covers.
const indexMagic = "bakeplan context index 2\n"

// MarshalBinary encodes the index for a file, after scheme (what made the
// digests: a different program must not read them) and with a checksum, so
// that a torn or foreign file reads as an empty index.
func (ix *Index) MarshalBinary(scheme string) []byte {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	oldest := ix.now().Add(-keepFor).Unix()
	b := appendString([]byte(indexMagic), scheme)
	n := 0
	for _, e := range ix.entries {
		if e.used >= oldest {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for key, e := range ix.entries {
		if e.used < oldest {
			continue
		}
		b = appendString(b, key)
		b = appendString(b, e.digest)
		b = appendString(b, e.release)
		b = binary.AppendVarint(b, e.used)
		b = binary.AppendUvarint(b, uint64(len(e.deps)))
		prev := ""
		for _, d := range e.deps {
			b = appendDep(b, d, prev)
			prev = d.path
		}
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// ReadIndex decodes what MarshalBinary wrote for scheme. Anything else (a
// torn file, another version, another program's digests) is an empty index:
// the cost of a bad index is one run without it.
func ReadIndex(data []byte, scheme string, now func() time.Time) *Index {
	ix := NewIndex(now)
	if entries, err := decodeIndex(data, scheme); err == nil {
		ix.entries = entries
	}
	return ix
}

var errBadIndex = errors.New("not an index")

func decodeIndex(data []byte, scheme string) (map[string]*indexEntry, error) {
	if len(data) < sha256.Size || !bytes.HasPrefix(data, []byte(indexMagic)) {
		return nil, errBadIndex
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, errBadIndex
	}
	r := &reader{b: body[len(indexMagic):]}
	if r.string() != scheme {
		return nil, errBadIndex
	}
	n := r.uvarint()
	entries := make(map[string]*indexEntry, min(n, 1<<16))
	for i := uint64(0); i < n && r.err == nil; i++ {
		key := r.string()
		e := &indexEntry{digest: r.string(), release: r.string(), used: r.varint()}
		deps := r.uvarint()
		e.deps = make([]dep, 0, min(deps, 1<<10))
		prev := ""
		for j := uint64(0); j < deps && r.err == nil; j++ {
			d := r.dep(prev)
			e.deps = append(e.deps, d)
			prev = d.path
		}
		entries[key] = e
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errBadIndex
	}
	return entries, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendDep writes one dep, its path as the length of the prefix it
// shares with the one before (a walk's paths mostly share their
// directories) and the rest.
func appendDep(b []byte, d dep, prev string) []byte {
	var flags byte
	if d.follow {
		flags |= 1
	}
	if d.absent {
		flags |= 2
	}
	shared := 0
	for shared < len(prev) && shared < len(d.path) && prev[shared] == d.path[shared] {
		shared++
	}
	b = binary.AppendUvarint(append(b, flags), uint64(shared))
	b = appendString(b, d.path[shared:])
	if d.absent {
		return b
	}
	s := d.sig
	for _, v := range []uint64{s.Dev, s.Ino, uint64(s.Mode)} {
		b = binary.AppendUvarint(b, v)
	}
	for _, v := range []int64{s.Size, s.Mtime, s.Ctime} {
		b = binary.AppendVarint(b, v)
	}
	return b
}

// reader decodes an index, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errBadIndex, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads what binary.AppendVarint wrote.
func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errBadIndex, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errBadIndex, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) dep(prev string) dep {
	if len(r.b) == 0 {
		r.err = errBadIndex
		return dep{}
	}
	flags := r.b[0]
	r.b = r.b[1:]
	shared := r.uvarint()
	if shared > uint64(len(prev)) {
		r.err, r.b = errBadIndex, nil
		return dep{}
	}
	d := dep{follow: flags&1 != 0, absent: flags&2 != 0, path: prev[:shared] + r.string()}
	if d.absent {
		return d
	}
	d.sig.Dev, d.sig.Ino, d.sig.Mode = r.uvarint(), r.uvarint(), uint32(r.uvarint())
	d.sig.Size, d.sig.Mtime, d.sig.Ctime = r.varint(), r.varint(), r.varint()
	return d
}

// sigFS is a file system that can say what Sigs its files have (the
// machine's, see internal/osfs). Only trees of one are kept in an index.
type sigFS interface {
	Sig(name string, follow bool) (osfs.Sig, error)
	OpenSig(name string) (io.ReadCloser, osfs.Sig, error)
}

// recorder collects what one walk saw. A nil recorder records nothing; one
// that met something it cannot describe (a file system without Sigs) is
// spoiled, and its walk is not kept.
type recorder struct {
	deps    []dep
	spoiled bool
}

func (r *recorder) info(path string, follow bool, fi fs.FileInfo) {
	if r == nil {
		return
	}
	if fi == nil {
		r.spoiled = true
		return
	}
	s, ok := osfs.SigOf(fi)
	if !ok {
		r.spoiled = true
		return
	}
	r.sig(path, follow, s)
}

func (r *recorder) sig(path string, follow bool, s osfs.Sig) {
	if r == nil {
		return
	}
	if s == (osfs.Sig{}) {
		r.spoiled = true // a file read before recording began
		return
	}
	r.deps = append(r.deps, dep{path: path, follow: follow, sig: s})
}

// missing records that path did not exist, or records a failure that the
// walk does not depend on as spoiling it.
func (r *recorder) missing(path string, err error) {
	if r == nil {
		return
	}
	if errors.Is(err, fs.ErrNotExist) {
		r.deps = append(r.deps, dep{path: path, absent: true})
		return
	}
	r.spoiled = true
}

func (r *recorder) add(deps []dep) {
	if r != nil {
		r.deps = append(r.deps, deps...)
	}
}
