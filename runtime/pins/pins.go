// Package pins asks registries what image references point at: the lock
// command's resolution (a tag to its index digest and the manifest of each
// platform the builds pull) and an online plan's drift check (has a
// locked tag moved?). It sends HEAD and GET requests only, through the
// registry package, so credentials, TLS and plain HTTP follow the plan's
// registry declarations.
package pins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// parallel is how many references are resolved at once.
const parallel = 8

// Resolver resolves references at their registries.
type Resolver struct {
	r remotes.Resolver
}

// New resolves through the registries regs describes.
func New(regs *registry.Registries) *Resolver {
	return &Resolver{r: docker.NewResolver(docker.ResolverOptions{Hosts: regs.Hosts()})}
}

// ErrNotFound is a reference the registry does not hold.
var ErrNotFound = errors.New("not found")

// Head returns the digest ref points at now.
func (r *Resolver) Head(ctx context.Context, ref string) (string, error) {
	_, desc, err := r.r.Resolve(ctx, ref)
	if errdefs.IsNotFound(err) {
		return "", fmt.Errorf("%s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}

// Pin resolves ref (a normalized reference; with at set, the locked
// digest it was pinned to instead of what the tag points at now) and
// records, for an index, the manifest each of plats pulls, as BuildKit
// picks it. A platform the index lacks is an error that names what it has.
func (r *Resolver) Pin(ctx context.Context, ref, at string, plats []string) (*lockfile.Image, error) {
	target := ref
	if at != "" {
		target = ref + "@" + at
	}
	name, desc, err := r.r.Resolve(ctx, target)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w", target, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", target, err)
	}
	img := &lockfile.Image{Ref: ref, Digest: desc.Digest.String()}
	f, err := r.r.Fetcher(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", target, err)
	}
	if !images.IsIndexType(desc.MediaType) {
		return img, singlePlatform(ctx, f, desc, ref, plats)
	}
	var idx ocispec.Index
	if err := fetchJSON(ctx, f, desc, &idx); err != nil {
		return nil, fmt.Errorf("reading the index of %s: %w", target, err)
	}
	img.Platforms = map[string]string{}
	for _, p := range plats {
		m, err := pick(idx, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", plan.FamiliarRef(ref), err)
		}
		img.Platforms[p] = m
	}
	return img, nil
}

// OnBuild says whether ref@at, for any of plats, carries ONBUILD
// instructions: a build FROM it runs them first, and they may read any
// file of the context.
func (r *Resolver) OnBuild(ctx context.Context, ref, at string, plats []string) (bool, error) {
	target := ref + "@" + at
	name, desc, err := r.r.Resolve(ctx, target)
	if err != nil {
		return false, fmt.Errorf("resolving %s: %w", target, err)
	}
	f, err := r.r.Fetcher(ctx, name)
	if err != nil {
		return false, fmt.Errorf("fetching %s: %w", target, err)
	}
	manifests := []ocispec.Descriptor{desc}
	if images.IsIndexType(desc.MediaType) {
		var idx ocispec.Index
		if err := fetchJSON(ctx, f, desc, &idx); err != nil {
			return false, fmt.Errorf("reading the index of %s: %w", target, err)
		}
		manifests = nil
		for _, p := range plats {
			m, err := pick(idx, p)
			if err != nil {
				return false, fmt.Errorf("%s: %w", plan.FamiliarRef(ref), err)
			}
			for _, d := range idx.Manifests {
				if d.Digest.String() == m {
					manifests = append(manifests, d)
					break
				}
			}
		}
	}
	for _, md := range manifests {
		var m ocispec.Manifest
		if err := fetchJSON(ctx, f, md, &m); err != nil {
			return false, fmt.Errorf("reading the manifest of %s: %w", target, err)
		}
		var cfg struct {
			Config struct {
				OnBuild []string `json:"OnBuild"`
			} `json:"config"`
		}
		if err := fetchJSON(ctx, f, m.Config, &cfg); err != nil {
			return false, fmt.Errorf("reading the configuration of %s: %w", target, err)
		}
		if len(cfg.Config.OnBuild) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// singlePlatform checks that a single-manifest image serves every platform
// the builds pull it for: its configuration names its one platform.
func singlePlatform(ctx context.Context, f remotes.Fetcher, desc ocispec.Descriptor, ref string, plats []string) error {
	var m ocispec.Manifest
	if err := fetchJSON(ctx, f, desc, &m); err != nil {
		return fmt.Errorf("reading the manifest of %s: %w", ref, err)
	}
	var cfg ocispec.Image
	if err := fetchJSON(ctx, f, m.Config, &cfg); err != nil {
		return fmt.Errorf("reading the configuration of %s: %w", ref, err)
	}
	has := platforms.Normalize(cfg.Platform)
	for _, p := range plats {
		want, err := platforms.Parse(p)
		if err != nil {
			return err
		}
		if !platforms.Only(want).Match(has) {
			return fmt.Errorf("%s: the image is for %s only, and the builds pull it for %s", plan.FamiliarRef(ref), platforms.Format(has), p)
		}
	}
	return nil
}

// pick is the manifest of idx that BuildKit pulls for platform p: the best
// match by containerd's platform ordering (linux/arm64 takes
// linux/arm64/v8).
func pick(idx ocispec.Index, p string) (string, error) {
	want, err := platforms.Parse(p)
	if err != nil {
		return "", err
	}
	m := platforms.Only(want)
	var cands []ocispec.Descriptor
	var has []string
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" {
			continue // attestations
		}
		has = append(has, platforms.Format(*d.Platform))
		if m.Match(*d.Platform) {
			cands = append(cands, d)
		}
	}
	if len(cands) == 0 {
		slices.Sort(has)
		return "", fmt.Errorf("the image has no %s manifest (it has %s)", p, strings.Join(slices.Compact(has), ", "))
	}
	sort.SliceStable(cands, func(i, j int) bool { return m.Less(*cands[i].Platform, *cands[j].Platform) })
	return cands[0].Digest.String(), nil
}

func fetchJSON(ctx context.Context, f remotes.Fetcher, desc ocispec.Descriptor, v any) error {
	rc, err := f.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Wanted is what a plan's builds pull: each lockable reference (by tag,
// normalized) with the platforms it is pulled for.
func Wanted(p *plan.Plan) map[string][]string {
	out := map[string][]string{}
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		for _, img := range st.Build.Images {
			if img.Digest != "" && !img.Locked {
				continue // pinned by its own digest
			}
			for _, pl := range img.Platforms {
				if !slices.Contains(out[img.Ref], pl) {
					out[img.Ref] = append(out[img.Ref], pl)
				}
			}
		}
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

// Check compares each locked image of p with its registry and records
// what the tag points at now in the images' Registry ("none" when the tag
// is gone). Each reference is asked once, in parallel.
func Check(ctx context.Context, p *plan.Plan, r *Resolver) error {
	locked := map[string][]*plan.Image{}
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		for _, img := range st.Build.Images {
			if img.Locked {
				locked[img.Ref] = append(locked[img.Ref], img)
			}
		}
	}
	refs := slices.Sorted(maps.Keys(locked))
	now := make([]string, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, ref := range refs {
		g.Go(func() error {
			d, err := r.Head(gctx, ref)
			switch {
			case errors.Is(err, ErrNotFound):
				d = "none"
			case err != nil:
				return fmt.Errorf("checking the pin of %s: %w", plan.FamiliarRef(ref), err)
			}
			now[i] = d
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, ref := range refs {
		for _, img := range locked[ref] {
			img.Registry = now[i]
		}
	}
	return nil
}

// Change is what Update did to one reference's pin.
type Change struct {
	Ref    string
	Action string // "add", "upgrade", "platforms", "remove", "keep"
	Before *lockfile.Image
	After  *lockfile.Image
}

// UpdateOptions say which pins may move.
type UpdateOptions struct {
	// Upgrade re-resolves pins at their tags: every pin when Refs is
	// empty, else those of Refs (in any form lockfile.Normalize accepts).
	Upgrade bool
	Refs    []string
}

// Update returns the lock the plan needs: a pin for each reference the
// builds pull, with the manifest of each platform they pull it for. Pins
// stay where they are unless upgraded: a missing platform is read from the
// locked index, not the tag. Pins no build uses are dropped.
func Update(ctx context.Context, r *Resolver, old *lockfile.Lock, wanted map[string][]string, opts UpdateOptions) (*lockfile.Lock, []Change, error) {
	upgrade := map[string]bool{}
	for _, ref := range opts.Refs {
		norm, pinned, err := lockfile.Normalize(ref)
		if err != nil || pinned {
			return nil, nil, fmt.Errorf("-upgrade %s: not a reference by tag", ref)
		}
		if _, ok := wanted[norm]; !ok {
			return nil, nil, fmt.Errorf("-upgrade %s: no build pulls %s", ref, norm)
		}
		upgrade[norm] = true
	}
	moves := func(ref string) bool { return opts.Upgrade && (len(upgrade) == 0 || upgrade[ref]) }
	refs := slices.Sorted(maps.Keys(wanted))
	changes := make([]Change, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, ref := range refs {
		prev := old.Lookup(ref)
		changes[i] = Change{Ref: ref, Before: prev, After: prev, Action: "keep"}
		// A pin of an index is read again at its digest even when it
		// covers the platforms: a manifest the file records for a platform
		// must be the one its locked index holds (a damaged or edited lock
		// file). A pin of one manifest records nothing more to check.
		if prev != nil && !moves(ref) && covers(prev, wanted[ref]) && len(prev.Platforms) == 0 {
			continue
		}
		g.Go(func() error {
			at := ""
			if prev != nil && !moves(ref) {
				at = prev.Digest
			}
			img, err := r.Pin(gctx, ref, at, wanted[ref])
			if err != nil {
				return err
			}
			c := &changes[i]
			c.After = img
			switch {
			case prev == nil:
				c.Action = "add"
			case prev.Digest != img.Digest:
				c.Action = "upgrade"
			case maps.Equal(prev.Platforms, img.Platforms):
				c.After = prev
			case covers(prev, wanted[ref]) && len(prev.Platforms) == len(img.Platforms):
				c.Action = "repair"
			default:
				c.Action = "platforms"
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	next := &lockfile.Lock{Images: map[string]*lockfile.Image{}}
	for _, c := range changes {
		next.Images[c.Ref] = c.After
	}
	if old != nil {
		for _, ref := range slices.Sorted(maps.Keys(old.Images)) {
			if _, ok := wanted[ref]; !ok {
				changes = append(changes, Change{Ref: ref, Action: "remove", Before: old.Images[ref]})
			}
		}
	}
	return next, changes, nil
}

// Mismatch is a manifest a lock file records for a platform that is not
// the one its locked index holds for it.
type Mismatch struct {
	Ref, Platform, Locked, Index string
}

func (m Mismatch) Error() string {
	return fmt.Sprintf("%s: the lock file records %s for %s, but its locked index holds %s there", plan.FamiliarRef(m.Ref), m.Locked, m.Platform, m.Index)
}

// Verify reads each pin of lock that records per-platform manifests at
// its locked digest and returns every recorded manifest its index does not
// hold for that platform: a lock file edited by hand or damaged.
func Verify(ctx context.Context, r *Resolver, lock *lockfile.Lock) ([]Mismatch, error) {
	if lock == nil {
		return nil, nil
	}
	refs := slices.Sorted(maps.Keys(lock.Images))
	found := make([][]Mismatch, len(refs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, ref := range refs {
		pin := lock.Images[ref]
		if len(pin.Platforms) == 0 {
			continue
		}
		g.Go(func() error {
			img, err := r.Pin(gctx, ref, pin.Digest, slices.Sorted(maps.Keys(pin.Platforms)))
			if err != nil {
				return fmt.Errorf("checking the pin of %s: %w", plan.FamiliarRef(ref), err)
			}
			for _, p := range slices.Sorted(maps.Keys(pin.Platforms)) {
				if img.Platforms[p] != pin.Platforms[p] {
					found[i] = append(found[i], Mismatch{Ref: ref, Platform: p, Locked: pin.Platforms[p], Index: img.Platforms[p]})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(found...), nil
}

// covers says whether a pin records every platform in plats. A pin of a
// single manifest records none and serves what it serves.
func covers(pin *lockfile.Image, plats []string) bool {
	if len(pin.Platforms) == 0 {
		return true
	}
	for _, p := range plats {
		if _, ok := pin.Platforms[p]; !ok {
			return false
		}
	}
	return len(pin.Platforms) == len(plats)
}
