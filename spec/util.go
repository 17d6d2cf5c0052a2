package spec

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
)

func sortByRange[T any](xs []T, rng func(T) hcl.Range) {
	sort.SliceStable(xs, func(i, j int) bool {
		a, b := rng(xs[i]), rng(xs[j])
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
}
