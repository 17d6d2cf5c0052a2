// Package home expands a leading ~/ the way a shell would, for the paths a
// spec keeps as written (certificates, secret files) and reads at run time.
package home

import (
	"os"
	"path/filepath"
	"strings"
)

// Expand returns p with a leading ~/ replaced by the user's home
// directory; any other path, or one when the home directory is unknown,
// comes back unchanged.
func Expand(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if dir, err := os.UserHomeDir(); err == nil {
			return filepath.Join(dir, rest)
		}
	}
	return p
}
