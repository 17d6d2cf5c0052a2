package uptodate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"
)

// States of a build, as plan names them.
const (
	UpToDate = plan.UpToDate
	Retag    = plan.Retag
	Build    = plan.MustRun
)

// Files lists a build's main context, path to content digest.
type Files func(st *plan.Step) (map[string]string, error)

// published is what one tag points at.
type published struct {
	tag         string
	exists      bool
	digest      string
	inputDigest string
	record      Record
	hasRecord   bool
}

// Check asks the registries what each pushed build's tags point at (HEAD
// and GET requests only, in parallel) and records in the plan, per build,
// whether it is up to date, only needs tags moved, or must run and why.
// Builds that push nothing or also export elsewhere, and targets split
// across builders, are not checked (their Status stays nil).
//
// Builds whose only outputs are local files or directories are checked
// against the local state file (SaveLocal) instead: specDir is the spec's
// real directory, which their paths are relative to.
func Check(ctx context.Context, p *plan.Plan, specDir string, files Files) error {
	if specDir != "" {
		var state *localState // read for the first build with local outputs
		for _, st := range p.Steps {
			if st.Build == nil || !onlyLocal(st.Build) {
				continue
			}
			if state == nil {
				file, err := StateFile(specDir)
				if err != nil {
					break
				}
				state = readState(file)
			}
			st.Build.Status = alwaysRuns(st.Build)
			if st.Build.Status == nil {
				st.Build.Status = checkLocal(state, specDir, st, RecordOf(p, st, files))
			}
		}
	}
	regs := registry.FromPlan(p)
	type job struct {
		st   *plan.Step
		tags []*published
	}
	var jobs []*job
	for _, pub := range p.Steps {
		if pub.Publish == nil {
			continue
		}
		var builds []*plan.Step
		for _, e := range pub.Needs {
			if e.Kind == plan.EdgeBuild {
				builds = append(builds, p.Step(e.Step))
			}
		}
		if len(builds) != 1 || builds[0] == nil || !onlyPushes(builds[0].Build) {
			continue
		}
		j := &job{st: builds[0]}
		for _, t := range pub.Publish.Tags {
			j.tags = append(j.tags, &published{tag: t})
		}
		jobs = append(jobs, j)
	}
	g, gctx := errgroup.WithContext(ctx)
	// The requests wait on the network, not the CPU.
	g.SetLimit(32)
	for _, j := range jobs {
		for _, pt := range j.tags {
			g.Go(func() error { return read(gctx, regs, pt) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, j := range jobs {
		if st := alwaysRuns(j.st.Build); st != nil {
			j.st.Build.Status = st
			continue
		}
		j.st.Build.Status = decide(RecordOf(p, j.st, files), j.tags)
	}
	feedersOf(p)
	return nil
}

// feedersOf marks up to date each build that only feeds others as a
// context (it exports nothing of its own) when none of the builds it
// feeds runs: nothing would read its result. Chains are followed.
func feedersOf(p *plan.Plan) {
	consumers := map[string][]*plan.Step{}
	for _, st := range p.Steps {
		for _, e := range st.Needs {
			if st.Build != nil && e.Kind == plan.EdgeData {
				consumers[e.Step] = append(consumers[e.Step], st)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, st := range p.Steps {
			b := st.Build
			if b == nil || b.Status != nil || !onlyFeeds(b) || len(consumers[st.ID]) == 0 {
				continue
			}
			var names []string
			for _, c := range consumers[st.ID] {
				if !c.Build.Status.Skips() {
					names = nil
					break
				}
				names = append(names, c.ID)
			}
			if names == nil {
				continue
			}
			b.Status = &plan.BuildStatus{State: UpToDate, Reasons: []string{"only a context of " + strings.Join(names, ", ") + ", which apply does not solve"}}
			changed = true
		}
	}
}

// onlyFeeds says whether a build's only use is as another's context: it
// pushes, exports and asks nothing of its own.
func onlyFeeds(b *plan.Build) bool {
	return len(b.Outputs) == 0 && !b.Push && b.Call == "" && len(b.Tags) == 0
}

// alwaysRuns is the state of a build that no published image can stand
// for: one with inputs nobody can know before it runs, or with no_cache.
func alwaysRuns(b *plan.Build) *plan.BuildStatus {
	reasons := b.Unknowable()
	if b.NoCache {
		reasons = append(reasons, "no_cache is set: the build runs every time")
	}
	if len(reasons) == 0 {
		return nil
	}
	return &plan.BuildStatus{State: Build, Reasons: reasons}
}

// onlyPushes says whether a build's only result is its push: one that also
// writes a local directory, a tarball or into Docker is always run, as its
// registry image says nothing about those.
func onlyPushes(b *plan.Build) bool {
	for _, o := range b.Outputs {
		if o.Type != "registry" {
			return false
		}
	}
	return b.Push
}

// RecordOf is the record of st's inputs now: what apply puts on the image
// it pushes (or in the local state), and what plan compares with the
// published one.
func RecordOf(p *plan.Plan, st *plan.Step, files Files) Record {
	deps := map[string]string{}
	for _, e := range st.Needs {
		if e.Kind == plan.EdgeData {
			if dep := p.Step(e.Step); dep != nil && dep.Build != nil {
				deps[e.Name] = dep.Build.InputDigest
			}
		}
	}
	var list map[string]string
	if files != nil {
		var err error
		if list, err = files(st); err != nil {
			list = nil // the record then counts nothing; reasons say so
		}
	}
	return NewRecord(st.Build, list, deps)
}

// read asks the registry what pt's tag points at and what record it has:
// one GET of the manifest, which carries both, and for a single-platform
// image that BuildKit wrapped in an index with its attestations, a second
// GET of the image's own manifest, where the record is.
func read(ctx context.Context, regs *registry.Registries, pt *published) error {
	named, err := reference.ParseNormalizedNamed(pt.tag)
	if err != nil {
		return err
	}
	tagged, ok := named.(reference.Tagged)
	if !ok {
		return fmt.Errorf("%s has no tag", pt.tag)
	}
	data, _, err := regs.Manifest(ctx, named, tagged.Tag())
	switch {
	case errors.Is(err, registry.ErrNoManifest):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", pt.tag, err)
	}
	pt.exists = true
	// The digest of what the registry holds is that of these bytes.
	pt.digest = digest.FromBytes(data).String()
	var m manifestFields
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("reading %s: %w", pt.tag, err)
	}
	if _, ok := m.Annotations[AnnotationInputs]; !ok {
		if only := m.onlyImage(); only != "" {
			if data, _, err = regs.Manifest(ctx, named, only); err != nil {
				return fmt.Errorf("reading %s@%s: %w", pt.tag, only, err)
			}
			m = manifestFields{}
			if err := json.Unmarshal(data, &m); err != nil {
				return fmt.Errorf("reading %s@%s: %w", pt.tag, only, err)
			}
		}
	}
	pt.inputDigest = m.Annotations[AnnotationDigest]
	pt.record, pt.hasRecord = parseRecord(m.Annotations)
	if pt.hasRecord && pt.record.Brief && pt.record.InputDigest == pt.inputDigest {
		// The detail, when this machine built it.
		if r, ok := savedRecord(pt.inputDigest); ok {
			pt.record = r
		}
	}
	return nil
}

// manifestFields are the parts of a manifest or index read here.
type manifestFields struct {
	Annotations map[string]string    `json:"annotations"`
	Manifests   []ocispec.Descriptor `json:"manifests"`
}

// onlyImage is the digest of an index's one image manifest when all the
// others are attestations (BuildKit's shape for one platform with attest),
// else "".
func (m manifestFields) onlyImage() string {
	var only string
	for _, d := range m.Manifests {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		if only != "" {
			return ""
		}
		only = d.Digest.String()
	}
	return only
}

// decide is a build's state from what its tags hold.
func decide(now Record, tags []*published) *plan.BuildStatus {
	var holder *published
	all := true
	for _, pt := range tags {
		ok := pt.exists && pt.inputDigest == now.InputDigest
		if ok && holder == nil {
			holder = pt
		}
		all = all && ok && (holder == nil || pt.digest == holder.digest)
	}
	if all && holder != nil && holder.hasRecord && holder.record.CacheTo != now.CacheTo && now.CacheTo != "" {
		return &plan.BuildStatus{State: Build, Reasons: []string{"cache_to changed: the build runs to export the cache it asks for (the image stays the same)"}}
	}
	if all && holder != nil {
		return &plan.BuildStatus{State: UpToDate, Digest: holder.digest}
	}
	var reasons []string
	for _, pt := range tags {
		switch {
		case !pt.exists:
			reasons = append(reasons, fmt.Sprintf("tag %s missing", pt.tag))
		case holder != nil && pt.digest != holder.digest:
			reasons = append(reasons, fmt.Sprintf("tag %s points at %s, not %s", pt.tag, plan.ShortDigest(pt.digest), plan.ShortDigest(holder.digest)))
		}
	}
	if holder != nil && sameRepository(holder.tag, tags) {
		return &plan.BuildStatus{State: Retag, Digest: holder.digest, Reasons: reasons}
	}
	if holder != nil {
		// The inputs match; only the repositories differ. Tags cannot
		// point across them, but the image can be copied.
		from := repository(holder.tag)
		reasons = append(reasons, fmt.Sprintf("%s (%s) holds these inputs: the image is copied from %s to the other repositories, not built", holder.tag, plan.ShortDigest(holder.digest), from))
		return &plan.BuildStatus{State: Retag, Digest: holder.digest, From: from, Reasons: reasons}
	}
	for _, pt := range tags {
		if !pt.exists {
			continue
		}
		switch {
		case !pt.hasRecord:
			reasons = append(reasons, fmt.Sprintf("%s (%s) carries no bakeplan input record", pt.tag, plan.ShortDigest(pt.digest)))
		case pt.record.Brief:
			reasons = append(reasons, fmt.Sprintf("the inputs changed since %s (%s) was built from %s; what changed is not known here: the detailed record stays on the machine that built it (its user cache, bakeplan/records), unless apply --detailed-record published it", pt.tag, plan.ShortDigest(pt.digest), plan.ShortDigest(pt.inputDigest)))
		default:
			reasons = append(reasons, Reasons(pt.record, now)...)
		}
		break
	}
	return &plan.BuildStatus{State: Build, Reasons: reasons}
}

// sameRepository says whether every tag is in holder's repository, where
// the image it holds can be tagged without copying it.
func sameRepository(holder string, tags []*published) bool {
	for _, pt := range tags {
		if repository(pt.tag) != repository(holder) {
			return false
		}
	}
	return true
}

// repository is a tag's repository, host included.
func repository(tag string) string {
	n, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return tag
	}
	return n.Name()
}
