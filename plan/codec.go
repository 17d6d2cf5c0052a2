package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Marshal sets p.Digest and returns the plan's JSON: indented, with a
// trailing newline, byte-identical for equal plans.
func Marshal(p *Plan) ([]byte, error) {
	p.FormatVersion = FormatVersion
	// The digest covers the encoding with an empty digest field. Encoding
	// with a placeholder of the digest's length and hashing around it saves
	// encoding or copying a large plan twice.
	p.Digest = digestPlaceholder
	e := newEncoder(p)
	if err := e.plan(p); err != nil {
		return nil, fmt.Errorf("encoding plan: %w", err)
	}
	e.b = append(e.b, '\n')
	// The digest is the second field, after the fixed format version, so
	// the first match is the one.
	i := bytes.Index(e.b, []byte(`"digest": "`+digestPlaceholder))
	if i < 0 {
		return nil, errors.New("encoding plan: no digest field")
	}
	i += len(`"digest": "`)
	h := sha256.New()
	h.Write(e.b[:i])
	h.Write(e.b[i+len(digestPlaceholder):])
	p.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	copy(e.b[i:], p.Digest)
	return e.b, nil
}

// digestPlaceholder has the length of a digest.
var digestPlaceholder = strings.Repeat("0", len("sha256:")+sha256.Size*2)

// ComputeDigest returns the digest of p's content, ignoring p.Digest.
func ComputeDigest(p *Plan) (string, error) {
	c := *p
	c.Digest = ""
	b, err := encode(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func encode(p *Plan) ([]byte, error) {
	e := newEncoder(p)
	if err := e.plan(p); err != nil {
		return nil, fmt.Errorf("encoding plan: %w", err)
	}
	return append(e.b, '\n'), nil
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
	return &p, nil
}

func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}
