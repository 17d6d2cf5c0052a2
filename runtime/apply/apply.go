// Package apply runs a plan: it connects to every builder the plan uses,
// solves the builds in dependency order (independent ones at the same time),
// and writes tags only once every build of the run succeeded.
package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/solve"
	"github.com/bakeplan/bakeplan/runtime/uptodate"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	dockerclient "github.com/moby/moby/client"
)

// Options control a run.
type Options struct {
	SpecDir string // absolute directory of the spec; plan paths are relative to it
	Env     endpoint.Env
	// Parallelism bounds concurrent solves; 0 means no bound.
	Parallelism int
	// KeepGoing builds what does not depend on a failure and tags the
	// targets whose builds all succeeded.
	KeepGoing bool
	// Progress is a progressui mode: auto, tty, plain, rawjson or quiet.
	Progress string
	// Out receives progress and the summary.
	Out io.Writer
	// MetadataFile, when set, receives the results as JSON.
	MetadataFile string
	// LookupEnv reads the environment build secrets come from; nil means
	// the process environment.
	LookupEnv func(string) (string, bool)
	// Files lists a build's main context for its input record (the
	// annotations that let a later plan tell an up-to-date build from one
	// that must run and name the changed files); nil records no listing.
	Files uptodate.Files
	// DetailedRecord publishes each build's detailed input record on its
	// image (file names and digests, args, images) instead of the brief
	// one, so that any machine can say why it builds again.
	DetailedRecord bool
	// Rebuild names the targets built even when the plan found them up to
	// date; "*" is every target.
	Rebuild []string
	// LayoutsDir, when set, receives every build's result as an OCI
	// layout (a directory per step, named in BuildResult.Layout), for
	// verify to compare; it is left in place.
	LayoutsDir string
}

// BuildResult is the outcome of one build step.
type BuildResult struct {
	Step      string   `json:"step"`
	Target    string   `json:"target"`
	Platforms []string `json:"platforms"`
	Digest    string   `json:"digest,omitempty"`
	// Layout is the directory holding the result as an OCI layout, with
	// Options.LayoutsDir.
	Layout string `json:"layout,omitempty"`
	// Images maps each image the build pulled by digest (a lock file's
	// pin, or a reference's own digest) to that digest.
	Images map[string]string `json:"images,omitempty"`
	Cached bool              `json:"cached"`
	// UpToDate: the plan found an image of these inputs published, so no
	// solve ran; Digest is that image (its tags are moved to it when
	// they point elsewhere).
	UpToDate bool `json:"up_to_date,omitempty"`
	// CopiedFrom is the repository an up-to-date image is copied from to
	// tags in other repositories.
	CopiedFrom string        `json:"copied_from,omitempty"`
	Duration   time.Duration `json:"duration_ns"`
	Started    time.Time     `json:"started"`
	Finished   time.Time     `json:"finished"`
	Error      string        `json:"error,omitempty"`
	Skipped    bool          `json:"skipped,omitempty"`
	// Call is the frontend's answer, for a target whose call is a
	// subrequest (check, outline, targets).
	Call *solve.CallResult `json:"call,omitempty"`
}

// Published is a tag written by a publish step.
type Published struct {
	Target string `json:"target"`
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
	// Unchanged: the tag already pointed there and was not written.
	Unchanged bool `json:"unchanged,omitempty"`
	// Now, when set, says how the tag differs from Digest when it was read
	// again at the end of the run: another writer moved or deleted it.
	Now string `json:"now,omitempty"`
}

// Summary is what a run did.
type Summary struct {
	Builds    []*BuildResult `json:"builds"`
	Published []*Published   `json:"published"`
}

// Requests returns the solve request of every build step, in plan order,
// with each step's resolved endpoint.
func Requests(p *plan.Plan, opts Options) ([]*solve.Request, error) {
	insecure := insecureRegistries(p)
	endpoints := map[string]endpoint.Resolved{}
	for _, st := range p.Steps {
		if st.Builder != nil {
			endpoints[st.Builder.Name] = endpoint.ForBuilder(st.Builder, opts.Env)
		}
	}
	var out []*solve.Request
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		ep, ok := endpoints[st.Build.Builder]
		if !ok {
			return nil, fmt.Errorf("%s: the plan has no builder %q", st.ID, st.Build.Builder)
		}
		r, err := solve.NewRequest(st, solve.Options{
			SpecDir: opts.SpecDir, Endpoint: ep.String(), DockerEndpoint: ep.Docker, InsecureRegistries: insecure,
			Release: p.Release, Record: uptodate.RecordOf(p, st, opts.Files).Annotations(opts.DetailedRecord),
		})
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// skipping says, per build step, whether the run sends it no solve. A
// build whose result only feeds others (up to date with no image of its
// own) runs after all when one of the builds it feeds runs.
func skipping(p *plan.Plan, rebuild []string) map[string]bool {
	skip := map[string]bool{}
	for _, st := range p.Steps {
		if st.Build != nil {
			skip[st.ID] = skips(st, rebuild)
		}
	}
	for changed := true; changed; {
		changed = false
		for _, st := range p.Steps {
			if st.Build == nil || skip[st.ID] {
				continue
			}
			for _, e := range st.Needs {
				if dep := p.Step(e.Step); e.Kind == plan.EdgeData && skip[e.Step] && dep.Build.Status.Digest == "" {
					skip[e.Step], changed = false, true
				}
			}
		}
	}
	return skip
}

// skips says whether the run sends no solve for st: the plan found its
// inputs published, and no --rebuild names it.
func skips(st *plan.Step, rebuild []string) bool {
	if !st.Build.Status.Skips() {
		return false
	}
	return !slices.Contains(rebuild, "*") && !slices.Contains(rebuild, st.Build.Target)
}

// Apply runs the plan's builds and publishes. On any failure (unless
// KeepGoing) and on cancellation no tag is written.
func Apply(ctx context.Context, p *plan.Plan, opts Options) (*Summary, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	reqs, err := Requests(p, opts)
	if err != nil {
		return nil, err
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	// Builds the plan found up to date send nothing: their secrets need
	// not be set, nor their builders answer.
	var running []*solve.Request
	skip := skipping(p, opts.Rebuild)
	for _, r := range reqs {
		if !skip[r.Step] {
			running = append(running, r)
		}
	}
	if err := solve.CheckSecrets(running, lookup); err != nil {
		return nil, err
	}
	// The metadata file is written after the tags move; a location that
	// cannot take it must fail the run before anything is built.
	if opts.MetadataFile != "" {
		if err := atomicfile.CheckWritable(opts.MetadataFile); err != nil {
			return nil, fmt.Errorf("metadata file: %w; nothing was built", err)
		}
	}

	// Every builder must answer before anything is solved.
	clients := map[string]*client.Client{}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	var docker *dockerclient.Client
	for _, st := range p.Steps {
		if st.Builder == nil || !usesBuilder(running, st.Builder.Name) {
			continue
		}
		c, err := endpoint.Connect(ctx, endpoint.ForBuilder(st.Builder, opts.Env))
		if err != nil {
			return nil, fmt.Errorf("builder.%s: %w", st.Builder.Name, err)
		}
		clients[st.Builder.Name] = c
	}
	for _, r := range reqs {
		for _, e := range r.Exports {
			if e.Load && docker == nil {
				host := opts.Env.DockerHost
				if host == "" {
					host = dockerclient.DefaultDockerHost
				}
				docker, err = dockerclient.New(dockerclient.WithHost(host))
				if err != nil {
					return nil, fmt.Errorf("docker at %s: %w", host, err)
				}
				defer docker.Close()
			}
		}
	}

	work, err := os.MkdirTemp("", "bakeplan-apply-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	// Progress from every solve goes to one display.
	mode := progressui.DisplayMode(opts.Progress)
	if mode == "" {
		mode = progressui.AutoMode
	}
	display, err := progressui.NewDisplay(opts.Out, mode)
	if err != nil {
		return nil, fmt.Errorf("progress: %w", err)
	}
	status := make(chan *client.SolveStatus)
	displayDone := make(chan struct{})
	go func() {
		defer close(displayDone)
		_, _ = display.UpdateFrom(context.Background(), status)
	}()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := runBuilds(runCtx, cancel, p, reqs, clients, docker, work, status, opts)
	close(status)
	<-displayDone

	// Builds with local outputs record what they wrote, for the next plan
	// to find them up to date. A state that cannot be written only means
	// they are built again.
	var built []string
	for _, r := range results {
		if r.Error == "" && !r.UpToDate {
			built = append(built, r.Step)
		}
	}
	_ = uptodate.SaveLocal(p, opts.SpecDir, built, opts.Files)
	_ = uptodate.SaveRecords(p, built, opts.Files)

	sum := &Summary{}
	var failures []string
	for _, r := range reqs {
		res := results[r.Step]
		sum.Builds = append(sum.Builds, res)
		if res.Error != "" {
			failures = append(failures, fmt.Sprintf("%s: %s", r.Step, res.Error))
		}
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("interrupted; no tag was written: %w", err)
	}
	if len(failures) > 0 && !opts.KeepGoing {
		_ = writeMetadata(opts.MetadataFile, sum)
		return sum, fmt.Errorf("%d build(s) failed; no tag was written:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}

	pubErr := publishAll(ctx, p, results, sum, opts)
	if err := writeMetadata(opts.MetadataFile, sum); err != nil {
		return sum, err
	}
	if pubErr != nil {
		return sum, pubErr
	}
	if len(failures) > 0 {
		return sum, fmt.Errorf("%d build(s) failed; targets that depend on them were not tagged:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	return sum, nil
}

func usesBuilder(reqs []*solve.Request, name string) bool {
	for _, r := range reqs {
		if r.Builder == name {
			return true
		}
	}
	return false
}

// runBuilds solves every build once the builds it needs have finished.
func runBuilds(ctx context.Context, cancel context.CancelFunc, p *plan.Plan, reqs []*solve.Request,
	clients map[string]*client.Client, docker *dockerclient.Client, work string,
	status chan<- *client.SolveStatus, opts Options) map[string]*BuildResult {

	isBuild := map[string]bool{}
	for _, r := range reqs {
		isBuild[r.Step] = true
	}
	// A build exports an OCI layout when another build takes it as a context.
	layoutFor := map[string]bool{}
	for _, st := range p.Steps {
		for _, e := range st.Needs {
			if e.Kind == plan.EdgeData {
				layoutFor[e.Step] = true
			}
		}
	}
	done := map[string]chan struct{}{}
	for _, r := range reqs {
		done[r.Step] = make(chan struct{})
	}
	var mu sync.Mutex
	results := map[string]*BuildResult{}
	layouts := map[string]solve.Layout{}
	skip := skipping(p, opts.Rebuild)
	var sem chan struct{}
	if opts.Parallelism > 0 {
		sem = make(chan struct{}, opts.Parallelism)
	}

	var wg sync.WaitGroup
	for _, r := range reqs {
		st := p.Step(r.Step)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[r.Step])
			res := &BuildResult{Step: r.Step, Target: r.Target}
			for _, pr := range st.Build.Platforms {
				res.Platforms = append(res.Platforms, pr.Platform)
			}
			for _, img := range st.Build.Images {
				if img.Digest != "" {
					if res.Images == nil {
						res.Images = map[string]string{}
					}
					res.Images[img.Ref] = img.Digest
				}
			}
			record := func() {
				mu.Lock()
				results[r.Step] = res
				mu.Unlock()
			}
			defer record()
			for _, e := range st.Needs {
				if !isBuild[e.Step] {
					continue
				}
				select {
				case <-done[e.Step]:
				case <-ctx.Done():
				}
				mu.Lock()
				dep := results[e.Step]
				mu.Unlock()
				if dep == nil || dep.Error != "" {
					res.Skipped, res.Error = true, "skipped: "+e.Step+" did not succeed"
					return
				}
			}
			if sem != nil {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
				}
			}
			if ctx.Err() != nil {
				res.Skipped, res.Error = true, "skipped: the run was stopped"
				return
			}
			if skip[st.ID] {
				res.UpToDate, res.Digest, res.CopiedFrom = true, st.Build.Status.Digest, st.Build.Status.From
				return
			}
			r := withPublishedInputs(p, r, skip)
			ro := solve.RunOptions{Client: clients[r.Builder], Status: status, Docker: docker, Inputs: map[string]solve.Layout{}}
			mu.Lock()
			for k, v := range layouts {
				ro.Inputs[k] = v
			}
			mu.Unlock()
			if layoutFor[r.Step] || opts.LayoutsDir != "" {
				base := work
				if opts.LayoutsDir != "" {
					base = opts.LayoutsDir
				}
				ro.LayoutDir = filepath.Join(base, strings.NewReplacer("/", "_", "@", "_").Replace(r.Step))
			}
			res.Started = time.Now()
			out, err := solve.Run(ctx, r, ro)
			res.Finished = time.Now()
			if err != nil {
				res.Error = err.Error()
				if !opts.KeepGoing {
					cancel()
				}
				return
			}
			res.Digest, res.Cached, res.Duration, res.Call = out.Digest, out.Cached, out.Duration, out.Call
			if out.Call != nil && out.Call.Status != 0 {
				// A check that found something fails its step, as
				// docker buildx bake --call check exits non-zero.
				res.Error = fmt.Sprintf("the frontend's %s answered with status %d", out.Call.Name, out.Call.Status)
				if !opts.KeepGoing {
					cancel()
				}
				return
			}
			if out.Layout != nil && opts.LayoutsDir != "" {
				res.Layout = out.Layout.Dir
			}
			if out.Layout != nil {
				mu.Lock()
				layouts[r.Step] = *out.Layout
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
}

// withPublishedInputs is r with each target context whose build is up to
// date read from its published image, by digest, instead of an OCI layout
// of a build that does not run.
func withPublishedInputs(p *plan.Plan, r *solve.Request, skip map[string]bool) *solve.Request {
	var c *solve.Request
	for name, step := range r.TargetContexts {
		dep := p.Step(step)
		if dep == nil || dep.Build == nil || !skip[step] || dep.Build.Status.Digest == "" {
			continue
		}
		if c == nil {
			copied := *r
			copied.FrontendAttrs, copied.TargetContexts = maps.Clone(r.FrontendAttrs), maps.Clone(r.TargetContexts)
			c = &copied
		}
		repo := dep.Build.Status.From // the repository that holds it
		if repo == "" {
			repo = dep.Build.Tags[0]
			if n, err := reference.ParseNormalizedNamed(repo); err == nil {
				repo = n.Name()
			}
		}
		c.FrontendAttrs["context:"+name] = "docker-image://" + repo + "@" + dep.Build.Status.Digest
		delete(c.TargetContexts, name)
	}
	if c == nil {
		return r
	}
	return c
}

// insecureRegistries are the declared registries reached over plain HTTP,
// for both the pushes by digest and the tags.
func insecureRegistries(p *plan.Plan) map[string]bool {
	out := map[string]bool{}
	for _, st := range p.Steps {
		if st.Registry != nil && st.Registry.Insecure {
			out[st.Registry.Host] = true
		}
	}
	return out
}

func writeMetadata(file string, sum *Summary) error {
	if file == "" {
		return nil
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(file, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("metadata file: %w", err)
	}
	return nil
}
