// Package keys lists the keys of maps in order, for code that compares
// two maps key by key and must say what it finds deterministically.
package keys

import (
	"maps"
	"slices"
)

// Union is the keys of a and b, sorted, each once.
func Union[V any](a, b map[string]V) []string {
	out := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
