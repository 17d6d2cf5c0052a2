package project

import (
	"context"

	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/runtime/pins"
	"github.com/bakeplan/bakeplan/runtime/registry"
)

// UpdateLock asks the registries for what c's builds pull and returns the
// lock file they need, with what changed against the one c was compiled
// with. c must have been compiled with Inputs.All: the lock covers every
// build of the spec.
func UpdateLock(ctx context.Context, c *Compiled, opts pins.UpdateOptions) (*lockfile.Lock, []pins.Change, error) {
	r := pins.New(registry.FromPlan(c.Plan))
	return pins.Update(ctx, r, c.Lock, pins.Wanted(c.Plan), opts)
}

// CheckPins compares each image the lock file pins with its registry, and
// records in c's plan what each tag points at now. A plan without a lock
// file asks nothing.
func CheckPins(ctx context.Context, c *Compiled) error {
	if c.Plan == nil || c.Plan.Lock == nil {
		return nil
	}
	return pins.Check(ctx, c.Plan, pins.New(registry.FromPlan(c.Plan)))
}
