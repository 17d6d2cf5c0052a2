// Package apply runs a plan: it connects to every builder the plan uses,
// solves the builds in dependency order (independent ones at the same time),
// and writes tags only once every build of the run succeeded.
package apply

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/solve"
	"github.com/bakeplan/bakeplan/runtime/uptodate"
	"github.com/distribution/reference"
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
	// Failover is how many times a build on a pool node that dies or
	// stops answering moves to another node of the pool; 0: never.
	Failover int
	// StallTimeout gives up a solve whose builder sends no progress for
	// that long, as a node that stopped answering (0: never).
	StallTimeout time.Duration
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
	// Node is the pool node the build ran on, and Moved each move from a
	// node that was lost mid-build to another.
	Node  string `json:"node,omitempty"`
	Moved []Move `json:"moved,omitempty"`
	// Call is the frontend's answer, for a target whose call is a
	// subrequest (check, outline, targets).
	Call *solve.CallResult `json:"call,omitempty"`
}

// Move is a build moved off a pool node lost mid-build.
type Move struct {
	From string `json:"from"`
	To   string `json:"to"`
	Why  string `json:"why"`
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
	builders := map[string]*plan.Builder{}
	for _, st := range p.Steps {
		if st.Builder != nil {
			builders[st.Builder.Name] = st.Builder
		}
	}
	var out []*solve.Request
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		b, ok := builders[st.Build.Builder]
		if !ok {
			return nil, fmt.Errorf("%s: the plan has no builder %q", st.ID, st.Build.Builder)
		}
		if len(b.Nodes) > 0 && !slices.Contains(b.Nodes, st.Build.Node) {
			return nil, fmt.Errorf("%s: builder.%s has no node %q; the plan is not placed", st.ID, b.Name, st.Build.Node)
		}
		ep := endpoint.ForNode(b, st.Build.Node, opts.Env)
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
