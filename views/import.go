package views

import (
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/plan/render"
)

// Imported says what bakeplan import wrote: from which bake files, where
// (a spec for each), how many notes to read, and what it declared of the
// host.
func Imported(w io.Writer, from, to []string, notes int, emulators []string, containerd bool) {
	if to[0] == "-" {
		printf(w, "Imported %s into standard output.\n", strings.Join(from, ", "))
	} else {
		for i := range from {
			printf(w, "Imported %s into %s.\n", from[i], to[i])
		}
	}
	if len(emulators) > 0 {
		printf(w, "Declared host emulators %s: RUN steps run on those platforms, which bake emulated without a word.\n", strings.Join(emulators, ", "))
	}
	if containerd {
		printf(w, "Declared Docker's containerd image store: a build loads several platforms into Docker.\n")
	}
	if notes > 0 {
		printf(w, "%s to read: what could not be carried over is a \"# bakeplan:\" comment in the spec.\n", render.Count(notes, "warning"))
	}
}
