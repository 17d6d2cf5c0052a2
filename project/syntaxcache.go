package project

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"time"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
)

// syntaxMagic starts a syntax cache file; the format's version is in it.
const syntaxMagic = "bakeplan syntax cache 1\n"

// syntaxCache is a spec.SyntaxCache kept in a file beside the context
// index: the parsed pieces of a spec's files, by the sha256 of their text.
// Like the index it is named by the spec's absolute path and read only by
// this very program (another build may parse differently). The file ends
// with the sha256 of the rest: a damaged file is not read.
type syntaxCache struct {
	file   string
	scheme string
	kept   map[[sha256.Size]byte][]byte // as read
	used   map[[sha256.Size]byte][]byte // this run's pieces
	fresh  bool                         // a piece was parsed and stored
}

// openSyntaxCache is the syntax cache for the spec at specPath, or nil
// when there is none to keep (as for openIndex).
func openSyntaxCache(specPath string, environ []string) *syntaxCache {
	file, scheme, ok := cacheFile("syntax", specPath, environ)
	if !ok {
		return nil
	}
	c := &syntaxCache{file: file, scheme: scheme, used: map[[sha256.Size]byte][]byte{}}
	c.kept = readSyntaxCache(readCacheFile(c.file), scheme)
	touchCacheFile(c.file, time.Now())
	return c
}

// readSyntaxCache reads the pieces in data, written by marshalSyntaxCache with the
// same scheme; anything else reads as no pieces.
func readSyntaxCache(data []byte, scheme string) map[[sha256.Size]byte][]byte {
	head := syntaxMagic + scheme + "\n"
	if len(data) < len(head)+sha256.Size || !bytes.HasPrefix(data, []byte(head)) {
		return nil
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil
	}
	kept := map[[sha256.Size]byte][]byte{}
	for rest := body[len(head):]; len(rest) > 0; {
		if len(rest) < sha256.Size {
			return nil
		}
		key := [sha256.Size]byte(rest[:sha256.Size])
		n, w := binary.Uvarint(rest[sha256.Size:])
		rest = rest[sha256.Size+max(w, 0):]
		if w <= 0 || n > uint64(len(rest)) {
			return nil
		}
		kept[key], rest = rest[:n:n], rest[n:]
	}
	return kept
}

// Load is the syntax kept for a piece, or nil.
func (c *syntaxCache) Load(sum [sha256.Size]byte) []byte {
	b, ok := c.kept[sum]
	if ok {
		c.used[sum] = b
	}
	return b
}

// Store keeps a piece's syntax.
func (c *syntaxCache) Store(sum [sha256.Size]byte, syntax []byte) {
	c.used[sum] = syntax
	c.fresh = true
}

// save writes the cache back when the run parsed a piece or no longer has
// one the file holds; it then holds exactly this run's pieces. Like the
// index, it only spares work: failing to write it is not an error.
func (c *syntaxCache) save() {
	if c == nil || (!c.fresh && len(c.used) == len(c.kept)) {
		return
	}
	if err := os.MkdirAll(filepath.Dir(c.file), 0o700); err != nil {
		return
	}
	_ = atomicfile.Write(c.file, marshalSyntaxCache(c.used, c.scheme), 0o600)
	pruneCacheDir(filepath.Dir(c.file), time.Now())
}

func marshalSyntaxCache(pieces map[[sha256.Size]byte][]byte, scheme string) []byte {
	size := len(syntaxMagic) + len(scheme) + 1 + sha256.Size
	for _, b := range pieces {
		size += sha256.Size + binary.MaxVarintLen64 + len(b)
	}
	out := make([]byte, 0, size)
	out = append(out, syntaxMagic...)
	out = append(out, scheme...)
	out = append(out, '\n')
	for key, b := range pieces {
		out = append(out, key[:]...)
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}
