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

// Triggers asks, for every image a build pulls whose inputs cover only the
// context paths its Dockerfile reads, whether the image carries ONBUILD
// instructions (one request per image and platform, in parallel): those
// run first in a build FROM it and may read any file of the context, so
// such a build is never up to date (plan.Build.Unknowable). Images nothing
// pins and that could not be resolved are left alone.
func Triggers(ctx context.Context, p *plan.Plan, r *Resolver) error {
	type pulled struct{ ref, at string }
	byImage := map[pulled][]*plan.Image{}
	plats := map[pulled][]string{}
	for _, st := range p.Steps {
		if st.Build == nil || !precise(st.Build) {
			continue
		}
		for _, img := range st.Build.Images {
			at := img.Pulls()
			if img.Syntax || at == "" {
				continue
			}
			k := pulled{img.Ref, at}
			byImage[k] = append(byImage[k], img)
			for _, pl := range img.Platforms {
				if !slices.Contains(plats[k], pl) {
					plats[k] = append(plats[k], pl)
				}
			}
		}
	}
	keys := slices.Collect(maps.Keys(byImage))
	found := make([]bool, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, k := range keys {
		g.Go(func() error {
			on, err := r.OnBuild(gctx, k.ref, k.at, plats[k])
			found[i] = on
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, k := range keys {
		for _, img := range byImage[k] {
			img.OnBuild = found[i]
		}
	}
	return nil
}

// precise says whether b's main context digest covers only what its
// Dockerfile reads.
func precise(b *plan.Build) bool {
	for _, in := range b.Inputs {
		if in.Kind == "context" {
			return in.Reads != nil
		}
	}
	return false
}
