package views

import (
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/render"
	"github.com/bakeplan/bakeplan/runtime/pins"
)

// Lock writes what bakeplan lock did to each pin, Terraform style: + a new
// pin, ~ a pin moved or given platforms, - a pin no build uses any more,
// = a pin kept as it was; then where the lock was written, if it changed.
func Lock(w io.Writer, changes []pins.Change, file string, wrote bool) {
	var add, change, remove int
	for _, c := range changes {
		name := plan.FamiliarRef(c.Ref)
		switch c.Action {
		case "add":
			add++
			printf(w, "  + %s %s%s\n", name, c.After.Digest, platformList(c.After.Platforms))
		case "upgrade":
			change++
			printf(w, "  ~ %s %s → %s%s\n", name, c.Before.Digest, c.After.Digest, platformList(c.After.Platforms))
		case "repair":
			change++
			printf(w, "  ~ %s %s%s (the file recorded manifests its index does not hold; put right)\n", name, c.After.Digest, platformList(c.After.Platforms))
		case "platforms":
			change++
			printf(w, "  ~ %s %s%s (was%s)\n", name, c.After.Digest, platformList(c.After.Platforms), platformList(c.Before.Platforms))
		case "remove":
			remove++
			printf(w, "  - %s %s (no build pulls it)\n", name, c.Before.Digest)
		default:
			printf(w, "  = %s %s\n", name, c.After.Digest)
		}
	}
	if !wrote {
		printf(w, "\n%s is up to date: %s.\n", file, render.Count(len(changes)-remove, "pin"))
		return
	}
	printf(w, "\nWrote %s: %d added, %d changed, %d removed, %s in all.\n", file, add, change, remove, render.Count(len(changes)-remove, "pin"))
}

func platformList(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	return " (" + strings.Join(slices.Sorted(maps.Keys(m)), ", ") + ")"
}
