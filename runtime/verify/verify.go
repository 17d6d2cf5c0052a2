// Package verify rebuilds a plan's release builds from scratch (no cache,
// nothing pushed or tagged, the result kept as an OCI layout) and compares
// each platform's image with what was published: the tags, or the digests
// a release run's metadata file recorded. When they differ it explains
// how, with imagediff.
package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/placement"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/imagediff"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options control a verification.
type Options struct {
	// Apply runs the rebuild: spec directory, builder environment,
	// progress. Its LayoutsDir and MetadataFile are set by Verify.
	Apply apply.Options
	// Builder, when set, rebuilds on this builder instead of the ones
	// the plan assigned: another machine is the strongest check.
	Builder string
	// Release, when set, is the summary a release run wrote with
	// --metadata-file: its digests are compared instead of the tags'.
	Release *apply.Summary
}

// Result is what Verify found.
type Result struct {
	Builder string    `json:"builder,omitempty"`
	Targets []*Target `json:"targets"`
}

// Target is one release build, rebuilt and compared.
type Target struct {
	Target string `json:"target"`
	Step   string `json:"step"`
	// Against names what was compared: a tag, or a digest from the
	// release's metadata file.
	Against   string      `json:"against"`
	Published string      `json:"published"` // index (or manifest) digest
	Rebuilt   string      `json:"rebuilt"`
	Platforms []*Platform `json:"platforms"`
	// Attestations is "none", "identical" or "different" (provenance
	// records build times, so it differs between builds by design).
	Attestations string `json:"attestations"`
}

// Platform is one platform's image on both sides.
type Platform struct {
	Platform  string            `json:"platform"`
	Published string            `json:"published,omitempty"`
	Rebuilt   string            `json:"rebuilt,omitempty"`
	Identical bool              `json:"identical"`
	Diff      *imagediff.Report `json:"diff,omitempty"`
}

// Identical says whether every platform of every target matched.
func (r *Result) Identical() bool {
	for _, t := range r.Targets {
		for _, p := range t.Platforms {
			if !p.Identical {
				return false
			}
		}
	}
	return true
}

// Verify rebuilds p's builds and compares its release builds.
func Verify(ctx context.Context, p *plan.Plan, opts Options) (*Result, error) {
	vp, checked, err := rebuildPlan(p, opts.Builder)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "bakeplan-verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	ao := opts.Apply
	ao.LayoutsDir, ao.MetadataFile, ao.KeepGoing = work, "", false
	sum, err := apply.Apply(ctx, vp, ao)
	if err != nil {
		return nil, fmt.Errorf("rebuilding: %w", err)
	}
	layouts := map[string]string{}
	for _, b := range sum.Builds {
		layouts[b.Step] = b.Layout
	}
	regs := registry.FromPlan(p)
	resolver := docker.NewResolver(docker.ResolverOptions{Hosts: regs.Hosts()})
	res := &Result{Builder: opts.Builder}
	for _, st := range checked {
		t, err := compare(ctx, st, imagediff.Layout(layouts[st.ID]), resolver, opts.Release)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.ID, err)
		}
		res.Targets = append(res.Targets, t)
	}
	return res, nil
}

// rebuildPlan is p as verify runs it: every build without cache, pushing,
// exporting or caching nothing (apply keeps each result as a layout), on
// builder when one is named; no publish steps. It also returns the
// release builds to compare.
func rebuildPlan(p *plan.Plan, builder string) (*plan.Plan, []*plan.Step, error) {
	if builder != "" && p.Step("builder."+builder) == nil {
		return nil, nil, fmt.Errorf("--builder %s: the spec declares no builder %q", builder, builder)
	}
	vp := *p
	vp.Steps = nil
	var checked []*plan.Step
	for _, st := range p.Steps {
		if st.Publish != nil {
			continue
		}
		if st.Build == nil {
			vp.Steps = append(vp.Steps, st)
			continue
		}
		b := *st.Build
		b.NoCache, b.Push, b.Outputs, b.CacheFrom, b.CacheTo = true, false, nil, nil, nil
		b.Status = nil // verify rebuilds what a plan found up to date, too
		if builder != "" {
			b.Builder, b.Node, b.Placement = builder, "", "" // placed on the named builder below
		}
		c := *st
		c.Build = &b
		c.Needs = nil
		for _, e := range st.Needs {
			if e.Kind == plan.EdgeHost && strings.HasPrefix(e.Step, "builder.") && builder != "" {
				e.Step = "builder." + builder
			}
			c.Needs = append(c.Needs, e)
		}
		vp.Steps = append(vp.Steps, &c)
		if st.Build.Release {
			checked = append(checked, st)
		}
	}
	if builder != "" {
		vp.Index()
		if err := placement.Place(&vp, nil); err != nil {
			return nil, nil, err
		}
	}
	if len(checked) == 0 {
		return nil, nil, errors.New("no release build to verify: a spec with a release block builds its targets reproducibly (unless they set release = false)")
	}
	for _, st := range checked {
		if len(st.Build.Tags) == 0 || !st.Build.Push {
			return nil, nil, fmt.Errorf("%s pushes no image, so there is nothing published to verify it against", st.ID)
		}
	}
	return &vp, checked, nil
}

// compare reads what st published (its first tag, or the release
// metadata's digest in that repository) and the rebuilt layout, platform
// by platform.
func compare(ctx context.Context, st *plan.Step, rebuilt imagediff.Layout, resolver remotes.Resolver, release *apply.Summary) (*Target, error) {
	t := &Target{Target: st.Build.Target, Step: st.ID}
	tag := st.Build.Tags[0]
	ref := tag
	t.Against = tag
	if release != nil {
		dgst := ""
		for _, b := range release.Builds {
			if b.Step == st.ID {
				dgst = b.Digest
			}
		}
		if dgst == "" {
			return nil, errors.New("the release's metadata file records no digest for this build")
		}
		named, err := reference.ParseNormalizedNamed(tag)
		if err != nil {
			return nil, err
		}
		ref = named.Name() + "@" + dgst
		t.Against = "the release's " + dgst
	}
	name, pubTop, err := resolver.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	f, err := resolver.Fetcher(ctx, name)
	if err != nil {
		return nil, err
	}
	published := imagediff.Remote{Fetcher: f}
	pub, err := imagediff.Read(ctx, published, pubTop)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	rebTop, err := rebuilt.Top()
	if err != nil {
		return nil, fmt.Errorf("reading the rebuilt image: %w", err)
	}
	reb, err := imagediff.Read(ctx, rebuilt, rebTop)
	if err != nil {
		return nil, fmt.Errorf("reading the rebuilt image: %w", err)
	}
	t.Published, t.Rebuilt = pubTop.Digest.String(), rebTop.Digest.String()
	var plats []string
	for p := range pub.ByPlatform {
		plats = append(plats, p)
	}
	for p := range reb.ByPlatform {
		if _, ok := pub.ByPlatform[p]; !ok {
			plats = append(plats, p)
		}
	}
	slices.Sort(plats)
	for _, p := range plats {
		pd, inPub := pub.ByPlatform[p]
		rd, inReb := reb.ByPlatform[p]
		pr := &Platform{Platform: p}
		if inPub {
			pr.Published = pd.Digest.String()
		}
		if inReb {
			pr.Rebuilt = rd.Digest.String()
		}
		pr.Identical = inPub && inReb && pd.Digest == rd.Digest
		if inPub && inReb && !pr.Identical {
			if pr.Diff, err = imagediff.Compare(ctx, published, pd, rebuilt, rd); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
		}
		t.Platforms = append(t.Platforms, pr)
	}
	t.Attestations = attestations(pub.Attestations, reb.Attestations)
	return t, nil
}

func attestations(a, b []ocispec.Descriptor) string {
	if len(a) == 0 && len(b) == 0 {
		return "none"
	}
	digests := func(ds []ocispec.Descriptor) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Digest.String())
		}
		slices.Sort(out)
		return out
	}
	if slices.Equal(digests(a), digests(b)) {
		return "identical"
	}
	return "different"
}
