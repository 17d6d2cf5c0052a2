package compiler

import "github.com/agext/levenshtein"

// suggest returns the candidate closest to name, or "" when none is close,
// with the distance HCL itself uses for "Did you mean".
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(name, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
