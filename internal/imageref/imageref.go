// Package imageref holds what bakeplan must compute about an image
// reference exactly as BuildKit's Dockerfile frontend does, in one place
// for the compiler (which reads Dockerfiles) and the runtime (which feeds
// the frontend).
package imageref

import (
	"strings"

	"github.com/distribution/reference"
)

// ContextName is the named context the frontend looks an image up as,
// before pulling it: the familiar reference without ":latest"
// (docker.io/library/alpine:latest is "alpine", golang:1.26 stays). A
// string that is no reference is its own name.
func ContextName(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest")
}

// Normalize is a reference fully qualified, with its tag (":latest" when
// none is written), as BuildKit resolves it; digested says it carries a
// digest, which pins it.
func Normalize(ref string) (norm string, digested bool, err error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", false, err
	}
	_, digested = named.(reference.Digested)
	return reference.TagNameOnly(named).String(), digested, nil
}
