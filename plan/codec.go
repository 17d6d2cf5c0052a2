package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Marshal sets p.Digest and returns the plan's JSON: indented, with a
// trailing newline, byte-identical for equal plans.
func Marshal(p *Plan) ([]byte, error) {
	enc, err := Encode(p)
	if err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

// Encoding is a plan's JSON in pieces of tens of kilobytes. Writing a large
// plan from pieces needs no buffer of megabytes, which the heap rarely has
// free after compiling, so the process stays smaller.
type Encoding [][]byte

// WriteTo writes the JSON to w.
func (e Encoding) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, b := range e {
		m, err := w.Write(b)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Bytes returns the JSON in one slice.
func (e Encoding) Bytes() []byte { return bytes.Join(e, nil) }

// Encode sets p.Digest and returns the JSON Marshal returns, in pieces.
func Encode(p *Plan) (Encoding, error) {
	p.FormatVersion = FormatVersion
	// The digest covers the encoding with an empty digest field. Encoding
	// with a placeholder of the digest's length and hashing around it saves
	// encoding the plan twice. Finished pieces are hashed on another core
	// while the encoder writes the next ones.
	p.Digest = digestPlaceholder
	e := newEncoder()
	pieces := make(chan []byte, 16)
	e.done = pieces
	type result struct {
		at  int // where the placeholder starts in the first piece
		sum []byte
	}
	hashed := make(chan result, 1)
	go func() {
		h := sha256.New()
		at := -1
		for b := range pieces {
			if at < 0 {
				// The digest is the second field, after the fixed format
				// version, so the first match, in the first piece, is it.
				at = bytes.Index(b, []byte(`"digest": "`+digestPlaceholder))
				if at < 0 {
					for range pieces {
					}
					break
				}
				at += len(`"digest": "`)
				h.Write(b[:at])
				h.Write(b[at+len(digestPlaceholder):])
				continue
			}
			h.Write(b)
		}
		hashed <- result{at, h.Sum(nil)}
	}()
	err := e.plan(p)
	if err == nil {
		e.b = append(e.b, '\n')
		e.chunks = append(e.chunks, e.b)
		pieces <- e.b
	}
	close(pieces)
	r := <-hashed
	if err != nil {
		return nil, fmt.Errorf("encoding plan: %w", err)
	}
	if r.at < 0 {
		return nil, errors.New("encoding plan: no digest field")
	}
	p.Digest = "sha256:" + hex.EncodeToString(r.sum)
	copy(e.chunks[0][r.at:], p.Digest)
	return e.chunks, nil
}

// digestPlaceholder has the length of a digest.
var digestPlaceholder = strings.Repeat("0", len("sha256:")+sha256.Size*2)

// ComputeDigest returns the digest of p's content, ignoring p.Digest.
func ComputeDigest(p *Plan) (string, error) {
	c := *p
	c.Digest = ""
	chunks, err := encode(&c)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, b := range chunks {
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func encode(p *Plan) (Encoding, error) {
	e := newEncoder()
	if err := e.plan(p); err != nil {
		return nil, fmt.Errorf("encoding plan: %w", err)
	}
	e.b = append(e.b, '\n')
	return append(e.chunks, e.b), nil
}

// ErrTampered is returned by Unmarshal when a plan's digest does not match
// its content.
var ErrTampered = errors.New("plan digest does not match its content: the file was changed after it was written")

// Unmarshal reads a plan written by Marshal. It refuses another major format
// version, unknown fields, a digest that does not match, and a step graph
// that does not hold together.
func Unmarshal(data []byte) (*Plan, error) {
	var head struct {
		FormatVersion string `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	if major(head.FormatVersion) != major(FormatVersion) {
		return nil, fmt.Errorf("plan format version %q is not supported; this bakeplan reads %s.x", head.FormatVersion, major(FormatVersion))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	want, err := ComputeDigest(&p)
	if err != nil {
		return nil, err
	}
	if p.Digest != want {
		return nil, ErrTampered
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.Index()
	return &p, nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}
