package pins

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"golang.org/x/sync/errgroup"
)

// Unresolved is an image an online plan could not resolve.
type Unresolved struct {
	Ref     string
	Origins []*plan.Range // where the builds name it (Dockerfile lines)
	Steps   []string      // the build steps that pull it, sorted
	Err     error
}

func (u *Unresolved) Error() string {
	return fmt.Sprintf("%s, pulled by %s: %v", plan.FamiliarRef(u.Ref), strings.Join(u.Steps, ", "), u.Err)
}

// Resolve asks the registries what each image p's builds pull and nothing
// pins (no lock entry, no digest in the reference) points at now: the
// index digest and the manifest of each platform pulled, one request per
// reference, in parallel. It records the answer in the images' Resolved
// and computes the input digests again, so that a moved tag changes them.
//
// An image that cannot be resolved is returned, not recorded; with
// buildAnyway, its Unresolved says why instead, which keeps its builds
// from ever being up to date.
func Resolve(ctx context.Context, p *plan.Plan, r *Resolver, buildAnyway bool) ([]*Unresolved, error) {
	byRef := map[string][]*plan.Image{}
	steps := map[string][]string{}
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		for _, img := range st.Build.Images {
			if img.Digest != "" {
				continue // locked, or pinned by its own digest
			}
			byRef[img.Ref] = append(byRef[img.Ref], img)
			if !slices.Contains(steps[img.Ref], st.ID) {
				steps[img.Ref] = append(steps[img.Ref], st.ID)
			}
		}
	}
	refs := slices.Sorted(maps.Keys(byRef))
	found := make([]*plan.Resolved, len(refs))
	errs := make([]error, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, ref := range refs {
		var plats []string
		for _, img := range byRef[ref] {
			for _, pl := range img.Platforms {
				if !slices.Contains(plats, pl) {
					plats = append(plats, pl)
				}
			}
		}
		slices.Sort(plats)
		g.Go(func() error {
			img, err := r.Pin(gctx, ref, "", plats)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				errs[i] = err
				return nil
			}
			found[i] = &plan.Resolved{Digest: img.Digest, Platforms: img.Platforms}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var failed []*Unresolved
	for i, ref := range refs {
		for _, img := range byRef[ref] {
			switch {
			case found[i] != nil:
				img.Resolved = found[i]
			case buildAnyway:
				img.Unresolved = errs[i].Error()
			}
		}
		if errs[i] == nil {
			continue
		}
		u := &Unresolved{Ref: ref, Steps: steps[ref], Err: errs[i]}
		seen := map[plan.Range]bool{}
		for _, img := range byRef[ref] {
			if img.Origin != nil && !seen[*img.Origin] {
				seen[*img.Origin] = true
				u.Origins = append(u.Origins, img.Origin)
			}
		}
		slices.Sort(u.Steps)
		failed = append(failed, u)
	}
	p.DigestInputs()
	return failed, nil
}
