package project

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakeplan/bakeplan/internal/environ"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/placement"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/runtime/solve"
	"github.com/bakeplan/bakeplan/runtime/verify"
	"github.com/hashicorp/hcl/v2"
)

// This file is the façade the commands call: each verb is a typed request
// to one function here, which returns a typed result for a view to show.
// A problem in the spec, or in what it names, is a *Diagnostics error.

// Diagnostics is the error of a request that stopped at problems in the
// spec or the files it names: every diagnostic (warnings too, in the order
// found) and the files they quote.
type Diagnostics struct {
	Files map[string]*hcl.File
	Diags hcl.Diagnostics
}

func (d *Diagnostics) Error() string { return d.Diags.Error() }

// Online says how an online plan probes: the host, builders, registries
// and what the images and tags point at now.
type Online struct {
	// DockerConfig and DockerRestart override the spec's (and the
	// defaults') daemon.json and restart command for the image store.
	DockerConfig  string
	DockerRestart []string
	// RegistryWrites also checks that each registry stores OCI indexes,
	// by writing one.
	RegistryWrites bool
	// AllowUnresolved plans builds whose images no registry resolved
	// (they always run) instead of failing.
	AllowUnresolved bool
	// Environ says where the default builder is (BUILDKIT_HOST,
	// DOCKER_HOST); nil: the request's Inputs.Environ.
	Environ []string
}

// PlanRequest asks for a plan: the spec, its inputs and, unless Online is
// nil, what to probe.
type PlanRequest struct {
	Source Source
	Inputs Inputs
	Online *Online
	// SaveTo is the file the plan will be saved to: checked before any
	// probe, as Save checks it (a file inside a build context is refused).
	SaveTo string
}

// online is the request's probe settings, reading where the default
// builder is from the inputs' environment unless told; req.Online must be
// set.
func (req PlanRequest) online() Online {
	o := *req.Online
	if o.Environ == nil {
		o.Environ = req.Inputs.Environ
	}
	return o
}

// Planned is a plan as compiled and what an online plan observed, kept
// apart: Compiled.Plan is never changed once compiled.
type Planned struct {
	*Compiled
	// Observed is what the probes saw (nil offline, or when they saw
	// nothing to record).
	Observed *plan.Observations
	// Diags are the warnings of compiling and probing, in order.
	Diags hcl.Diagnostics
	// SpecDir is the spec's real directory on disk ("" for a revision).
	SpecDir string

	merged  *plan.Plan
	savable string // the SaveTo that CheckSaveTo passed
}

// Plan is the plan to show, save or apply: the compiled plan with the
// observations merged.
func (p *Planned) Plan() *plan.Plan {
	if p.Observed == nil {
		return p.Compiled.Plan
	}
	if p.merged == nil {
		p.merged = p.Compiled.Plan.With(p.Observed)
	}
	return p.merged
}

// Plan compiles the spec and, when req.Online is set, probes the host,
// builders and registries. Problems are a *Diagnostics error.
func Plan(ctx context.Context, req PlanRequest) (*Planned, error) {
	c, err := Compile(ctx, req.Source, req.Inputs)
	if err != nil {
		return nil, err
	}
	if c.Diags.HasErrors() {
		return nil, &Diagnostics{Files: c.Files, Diags: c.Diags}
	}
	p := &Planned{Compiled: c, Diags: c.Diags, SpecDir: specDir(req.Source)}
	if req.SaveTo != "" {
		if err := CheckSaveTo(c, req.SaveTo); err != nil {
			return nil, err
		}
		p.savable = req.SaveTo
	}
	if req.Online == nil {
		return p, nil
	}
	obs, diags, err := Observe(ctx, c, req.Source.Name, p.SpecDir, req.online())
	p.Diags = append(p.Diags, diags...)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, &Diagnostics{Files: c.Files, Diags: p.Diags}
	}
	p.Observed = obs
	return p, nil
}

// Observe probes the host, builders and registries for c's plan, and asks
// the registries what its images and tags point at now, on a working copy:
// c's plan is left as compiled, and what was seen is returned. What cannot
// be fixed comes back as error diagnostics.
func Observe(ctx context.Context, c *Compiled, specName, specDir string, o Online) (*plan.Observations, hcl.Diagnostics, error) {
	work := *c
	work.Plan = c.Plan.With(nil)
	diags := Probe(ctx, &work, specName, HostOptions(work.Plan, o))
	if diags.HasErrors() {
		return nil, diags, nil
	}
	// A pool's builds go to the nodes that answered.
	if down := work.Plan.DownNodes(); len(down) > 0 {
		if err := placement.Place(work.Plan, down); err != nil {
			return nil, diags, err
		}
	}
	if err := CheckPins(ctx, &work); err != nil {
		return nil, diags, err
	}
	d, err := ResolveImages(ctx, &work, o.AllowUnresolved)
	diags = append(diags, d...)
	if err != nil || diags.HasErrors() {
		return nil, diags, err
	}
	if err := CheckPublished(ctx, &work, specDir); err != nil {
		return nil, diags, err
	}
	obs := plan.ObservationsOf(work.Plan)
	for _, st := range work.Plan.Steps {
		if b := st.Build; b != nil && b.Node != "" {
			if was := c.Plan.Step(st.ID); was != nil && was.Build.Node != b.Node {
				if obs == nil {
					obs = &plan.Observations{}
				}
				obs.Placed(st.ID, b.Node, b.Placement)
			}
		}
	}
	return obs, diags, nil
}

// HostOptions are the host probe's and fixer's options for p: the
// daemon.json and restart command of the spec's docker block, unless
// overridden, and the builders' environment.
func HostOptions(p *plan.Plan, o Online) host.Options {
	daemon := host.DefaultDaemonConfig()
	if st := p.Step("host.docker.image_store"); st != nil && st.Docker != nil {
		if st.Docker.DaemonConfig != "" {
			daemon.Path = st.Docker.DaemonConfig
		}
		if len(st.Docker.RestartCommand) > 0 {
			daemon.RestartCommand = st.Docker.RestartCommand
		}
	}
	if o.DockerConfig != "" {
		daemon.Path = o.DockerConfig
	}
	if len(o.DockerRestart) > 0 {
		daemon.RestartCommand = o.DockerRestart
	}
	return host.Options{
		Binfmt:              host.DefaultBinfmt(),
		Env:                 builderEnv(o.Environ),
		Daemon:              daemon,
		ProbeRegistryWrites: o.RegistryWrites,
	}
}

// builderEnv is where the default builder is, from the environment.
func builderEnv(env []string) endpoint.Env {
	buildkit, _ := environ.Lookup(env, "BUILDKIT_HOST")
	docker, _ := environ.Lookup(env, "DOCKER_HOST")
	return endpoint.Env{BuildkitHost: buildkit, DockerHost: docker}
}

// specDir is the spec's real directory, which the plan's paths are
// relative to (the compiler resolved symbolic links before checking them);
// "" for a spec in a git revision.
func specDir(src Source) string {
	if src.Path == "" {
		return ""
	}
	abs, err := filepath.Abs(filepath.FromSlash(src.Path))
	if err != nil {
		return ""
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return ""
	}
	return dir
}

// ApplyRequest asks to run a plan: the spec compiled now, or a saved plan
// checked against what its inputs give now.
type ApplyRequest struct {
	// Plan is the spec to compile, its inputs, and the probes (Online nil:
	// --offline, which also trusts no up-to-date finding).
	Plan PlanRequest
	// SavedPlan, when set, is a plan file to apply instead; Overrides are
	// the command line's flags, each refused unless it agrees with it.
	SavedPlan string
	Overrides Overrides
	// DryRun changes nothing: the result holds the host changes and the
	// requests apply would make.
	DryRun bool
	// Approve is asked before the host is changed (the changes, and the
	// plan); an error stops the run. HostProgress hears each change made.
	Approve      func(changes []*plan.Step) error
	HostProgress func(*plan.Step)
	// Warn hears the warnings of compiling and probing once the plan to
	// apply is known, before anything changes.
	Warn func(files map[string]*hcl.File, diags hcl.Diagnostics)
	// Options are the runtime's; SpecDir, Files and Env are filled in.
	Options apply.Options
}

// Applied is what a run did, or for a dry run would do.
type Applied struct {
	Planned *Planned
	// Plan is the plan that ran: the compiled (or saved) plan with the
	// observations merged.
	Plan *plan.Plan
	// HostActions and Requests are what a dry run would do.
	HostActions []host.Action
	Requests    []*solve.Request
	// Summary is what the run built and tagged (nil for a dry run).
	Summary *apply.Summary
}

// Apply compiles (or loads and checks a saved plan), probes and fixes the
// host unless offline, and runs the builds. On a build error the result
// still holds the summary of what happened.
func Apply(ctx context.Context, req ApplyRequest) (*Applied, error) {
	planned, p, err := planToApply(ctx, req)
	if err != nil {
		return nil, err
	}
	out := &Applied{Planned: planned, Plan: p}
	if req.Warn != nil && len(planned.Diags) > 0 {
		req.Warn(planned.Files, planned.Diags)
	}
	if req.Plan.Online != nil {
		if err := fixHost(ctx, req, out); err != nil {
			return out, err
		}
	}
	opts := req.Options
	opts.SpecDir = planned.SpecDir
	opts.Files = planned.ContextFiles()
	opts.Env = builderEnv(req.Plan.Inputs.Environ)
	if req.Plan.Online == nil {
		// An offline run reads no registry, so it trusts no up-to-date
		// finding, not even a saved plan's: it builds.
		opts.Rebuild = []string{"*"}
	}
	if req.DryRun {
		out.Requests, err = apply.Requests(p, opts)
		return out, err
	}
	out.Summary, err = apply.Apply(ctx, p, opts)
	return out, err
}

// planToApply is the plan a run applies, with what the probes saw merged.
func planToApply(ctx context.Context, req ApplyRequest) (*Planned, *plan.Plan, error) {
	if req.SavedPlan == "" {
		planned, err := Plan(ctx, req.Plan)
		if err != nil {
			return nil, nil, err
		}
		return planned, planned.Plan(), nil
	}
	saved, err := ReadPlan(req.SavedPlan)
	if err != nil {
		return nil, nil, err
	}
	src, in, err := SavedInputs(saved, req.SavedPlan, req.Overrides)
	if err != nil {
		return nil, nil, err
	}
	// The host state a probed plan depended on is an input too: probe it
	// now, once, and apply the saved plan with what was found.
	fresh := PlanRequest{Source: src, Inputs: in}
	if req.Plan.Online != nil && saved.Probed() {
		fresh.Online = req.Plan.Online
	}
	planned, err := Plan(ctx, fresh)
	if err != nil {
		return nil, nil, err
	}
	checked, err := CheckSaved(saved, planned.Plan(), req.SavedPlan)
	if err != nil {
		return nil, nil, err
	}
	if fresh.Online != nil {
		return planned, checked.With(planned.Observed), nil
	}
	if req.Plan.Online == nil {
		return planned, checked, nil
	}
	// Made offline, applied online: probe the saved plan itself.
	work := *planned.Compiled
	work.Plan = checked
	obs, diags, err := Observe(ctx, &work, src.Name, planned.SpecDir, req.Plan.online())
	planned.Diags = append(planned.Diags, diags...)
	if err != nil {
		return nil, nil, err
	}
	if diags.HasErrors() {
		return nil, nil, &Diagnostics{Files: planned.Files, Diags: planned.Diags}
	}
	return planned, checked.With(obs), nil
}

// fixHost makes the host changes the plan needs, once approved; a dry run
// only lists them.
func fixHost(ctx context.Context, req ApplyRequest, out *Applied) error {
	changes := host.Changes(out.Plan)
	if len(changes) == 0 {
		return nil
	}
	opts := HostOptions(out.Plan, req.Plan.online())
	if req.DryRun {
		actions, err := host.Preview(out.Plan, opts)
		out.HostActions = actions
		return err
	}
	if req.Approve != nil {
		if err := req.Approve(changes); err != nil {
			return err
		}
	}
	progress := req.HostProgress
	if progress == nil {
		progress = func(*plan.Step) {}
	}
	return host.Fix(ctx, out.Plan, opts, progress)
}

// ReadPlan reads a saved plan file.
func ReadPlan(name string) (*plan.Plan, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	p, err := plan.Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// IsPlanFile says whether a command's argument names a saved plan rather
// than a target, a spec or a git revision: a regular file that opens as a
// plan does (its JSON starts with format_version), or a missing file named
// *.json, which is then an error to read rather than an unknown target.
// apply, verify and diff all decide by this one rule.
func IsPlanFile(arg string) bool {
	f, err := os.Open(arg)
	if err != nil {
		return strings.HasSuffix(arg, ".json") && os.IsNotExist(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return false
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	return bytes.Contains(head[:n], []byte(`"format_version"`))
}

// VerifyRequest asks to rebuild release targets and compare them with
// what was published.
type VerifyRequest struct {
	// Plan is the spec to compile (never probed), or SavedPlan a plan file
	// to verify instead, checked against what its inputs give now.
	Plan      PlanRequest
	SavedPlan string
	Overrides Overrides
	// Metadata is a release run's --metadata-file, to compare with
	// instead of the tags ("" for none).
	Metadata string
	// Warn hears the warnings of compiling, before the rebuild.
	Warn    func(files map[string]*hcl.File, diags hcl.Diagnostics)
	Options verify.Options
}

// Verify rebuilds the release targets from scratch and compares each
// platform's image with what was published.
func Verify(ctx context.Context, req VerifyRequest) (*verify.Result, error) {
	req.Plan.Online = nil
	var p *plan.Plan
	var planned *Planned
	var err error
	if req.SavedPlan != "" {
		planned, p, err = planToApply(ctx, ApplyRequest{SavedPlan: req.SavedPlan, Overrides: req.Overrides, Plan: req.Plan})
	} else if planned, err = Plan(ctx, req.Plan); err == nil {
		p = planned.Plan()
	}
	if err != nil {
		return nil, err
	}
	if req.Warn != nil && len(planned.Diags) > 0 {
		req.Warn(planned.Files, planned.Diags)
	}
	opts := req.Options
	if req.Metadata != "" {
		data, err := os.ReadFile(req.Metadata)
		if err != nil {
			return nil, fmt.Errorf("reading the release's metadata: %w", err)
		}
		opts.Release = &apply.Summary{}
		if err := json.Unmarshal(data, opts.Release); err != nil {
			return nil, fmt.Errorf("%s: %w", req.Metadata, err)
		}
	}
	opts.Apply.SpecDir = planned.SpecDir
	opts.Apply.Env = builderEnv(req.Plan.Inputs.Environ)
	return verify.Verify(ctx, p, opts)
}
