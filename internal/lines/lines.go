// Package lines finds lines and columns in source text by byte offset: for
// diagnostics that quote a line of a spec or a Dockerfile, and for ranges
// that need the byte offsets HCL's diagnostic writer reads.
package lines

import (
	"bytes"
	"unicode/utf8"
)

// Span returns where line (counted from 1) starts and ends in src, the
// newline left out. A line past the end is the empty span at the end.
func Span(src []byte, line int) (start, end int) {
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[start:], '\n')
		if i < 0 {
			return len(src), len(src)
		}
		start += i + 1
	}
	if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
		return start, start + i
	}
	return start, len(src)
}

// Offset returns the byte offset of line:column in src, both counted from
// 1, columns in characters, and never past the end of the line.
func Offset(src []byte, line, column int) int {
	off, end := Span(src, line)
	for c := 1; c < column && off < end; c++ {
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off
}
