package compiler

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/par"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/placement"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

type digestCache = inputs.Hasher

func newDigestCache(ctx context.Context, fsys fs.FS, ix *inputs.Index) *digestCache {
	h := inputs.NewContext(ctx, fsys)
	if ix != nil {
		h.UseIndex(ix)
	}
	return h
}

// assemble checks the evaluated targets as a whole and builds the plan.
func (c *compilation) assemble() (*plan.Plan, hcl.Diagnostics) {
	all, byIn, ds := c.resolveAll()
	if c.ctx.Err() != nil {
		return nil, nil
	}
	c.releaseValues(all)
	selected, diags := c.checkAll(all, byIn, ds)
	if diags.HasErrors() {
		return nil, diags
	}
	var selectedList []*resolved
	for _, r := range all {
		if selected[r] {
			selectedList = append(selectedList, r)
		}
	}
	sort.Slice(selectedList, func(i, j int) bool { return selectedList[i].in.name < selectedList[j].in.name })

	steps, regByHost := c.hostSteps(selectedList)
	builds, err := c.makeBuilds(selectedList)
	if err != nil {
		return nil, nil
	}
	if !c.opts.Locking {
		diags = append(diags, c.unpinnedInRelease(selectedList, builds.of, builds.origins)...)
	}
	warned := map[string]bool{}
	for i, r := range selectedList {
		diags = append(diags, builds.diags[i]...)
		st, d := c.targetSteps(r, builds.of[i], byIn, regByHost, warned)
		diags = append(diags, d...)
		steps = append(steps, st...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return c.finish(steps, diags)
}

// resolveAll checks every target on its own. Targets are independent, and
// a large spec's checks are mostly string parsing and file system lookups:
// they are spread over the cores, and results land by index, so
// diagnostics keep their order.
func (c *compilation) resolveAll() ([]*resolved, map[*instance]*resolved, []hcl.Diagnostics) {
	abstract := c.abstractTargets()
	c.abstract = abstract
	rs := make([]*resolved, len(c.targets))
	ds := make([]hcl.Diagnostics, len(c.targets))
	par.Do(len(c.targets), func(i int) {
		if c.ctx.Err() != nil {
			return
		}
		in := c.targets[i]
		rs[i], ds[i] = c.resolve(in, abstract[in] && !c.named(in))
	})
	all := make([]*resolved, 0, len(c.targets))
	byIn := map[*instance]*resolved{}
	for i, in := range c.targets {
		if r := rs[i]; r != nil {
			all = append(all, r)
			byIn[in] = r
		}
	}
	return all, byIn, ds
}

// checkAll checks the targets as a whole: which the run builds, cycles,
// builders and platforms, contexts' platforms and tag owners. As bake,
// what only a build needs is checked for the targets this run builds (and
// what they need); the others' problems are warnings for validate and
// left out of plan. The language itself is checked everywhere.
func (c *compilation) checkAll(all []*resolved, byIn map[*instance]*resolved, ds []hcl.Diagnostics) (map[*resolved]bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	selected, selDiags := c.selection(byIn)
	for i, in := range c.targets {
		diags = append(diags, c.lazy(in, ds[i])...)
	}
	diags = append(diags, c.unusedWarnings(all)...)
	if diags.HasErrors() {
		return nil, diags
	}
	diags = append(diags, c.checkCycles(all)...)
	for _, r := range all {
		d := c.assign(r)
		if !r.abstract {
			diags = append(diags, c.lazy(r.in, d)...)
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	for _, r := range all {
		diags = append(diags, c.lazy(r.in, c.checkContextPlatforms(r, byIn))...)
	}
	diags = append(diags, selDiags...)
	if !c.opts.All {
		// Under All (lock, import) every target is planned, but
		// alternatives sharing a tag are never built in one run.
		diags = append(diags, checkTagOwners(all, selected)...)
	}
	return selected, diags
}

// hostSteps are the steps the builds rely on: Docker's image store, the
// emulators (with the platforms that use each), the builders the builds
// use, and the registries, which it also returns by host.
func (c *compilation) hostSteps(selectedList []*resolved) ([]*plan.Step, map[string]*registryDecl) {
	var steps []*plan.Step
	if c.host.imageStore == storeContainerd {
		steps = append(steps, &plan.Step{
			ID: "host.docker.image_store", Action: plan.ActionEnsure, DeclaredAt: c.rangeOf(c.host.imageStoreRange),
			Docker: &plan.DockerRequirement{ImageStore: storeContainerd, DaemonConfig: c.host.daemonConfig, RestartCommand: c.host.restartCommand},
		})
	}
	emuUsers := map[string]map[string]bool{}
	usedBuilders := map[*builderDecl]bool{}
	for _, r := range selectedList {
		for _, runs := range r.runs {
			for _, run := range runs {
				if run.Emulator != "" {
					if emuUsers[run.Emulator] == nil {
						emuUsers[run.Emulator] = map[string]bool{}
					}
					emuUsers[run.Emulator][run.Platform] = true
				}
			}
		}
		for _, n := range r.nodes {
			usedBuilders[n] = true
		}
	}
	for _, arch := range sortedKeys(c.host.emulators) {
		rng := c.host.emulators[arch]
		steps = append(steps, &plan.Step{
			ID: "host.emulator." + arch, Action: plan.ActionEnsure, DeclaredAt: c.rangeOf(&rng),
			Emulator: &plan.Emulator{Arch: arch, Interpreter: emulatorInterpreters[arch], Flags: "F", Platforms: sortedKeys(emuUsers[arch])},
		})
	}
	for _, b := range c.builders {
		if b.declRange == nil && !usedBuilders[b] {
			// The implicit default builder, which no build uses: a
			// host-only spec must not need a BuildKit to plan.
			continue
		}
		steps = append(steps, &plan.Step{
			ID: "builder." + b.name, Action: plan.ActionCheck, DeclaredAt: c.rangeOf(b.declRange),
			Builder: &plan.Builder{Name: b.name, Endpoint: b.endpoint, Nodes: b.nodes, MaxSolves: b.maxSolves, Local: b.local, Platforms: b.platforms, TLS: b.tls},
		})
	}
	regByHost := map[string]*registryDecl{}
	for _, reg := range c.registries {
		regByHost[reg.host] = reg
		steps = append(steps, &plan.Step{
			ID: "registry." + reg.name, Action: plan.ActionCheck, DeclaredAt: c.rangeOf(&reg.declRange),
			Registry: &plan.Registry{Name: reg.name, Host: reg.host, Insecure: reg.insecure, TLS: reg.tls},
		})
	}
	return steps, regByHost
}

// builds are the build steps' contents of each selected target (one per
// builder node), with where each image is named and the inputs' problems.
type builds struct {
	of      [][]*plan.Build
	origins [][]map[*plan.Image]hcl.Range
	diags   []hcl.Diagnostics
}

// makeBuilds digests the targets' inputs and makes their builds, with the
// images they pull and their input digests. Digesting contexts is most of
// a large plan's I/O, so it runs on every core; results land by index, so
// the plan does not depend on timing. It fails only when interrupted.
func (c *compilation) makeBuilds(selectedList []*resolved) (builds, error) {
	out := builds{
		of:      make([][]*plan.Build, len(selectedList)),
		origins: make([][]map[*plan.Image]hcl.Range, len(selectedList)),
		diags:   make([]hcl.Diagnostics, len(selectedList)),
	}
	par.Do(len(selectedList), func(i int) {
		if c.ctx.Err() != nil {
			return
		}
		r := selectedList[i]
		ins, d := c.inputs(r)
		out.diags[i] = d
		for _, node := range r.nodes {
			b := r.build
			b.Target, b.Builder, b.Platforms, b.Inputs = r.in.name, node.name, sortedRuns(r.runs[node]), ins
			var origins map[*plan.Image]hcl.Range
			b.Images, origins = c.imagesOf(r, node, b.Platforms)
			b.Remote = c.remotesOf(r, node, b.Platforms)
			b.Frontend = r.customFrontend()
			for _, img := range b.Images {
				if o, ok := origins[img]; ok && o.Filename != "" {
					img.Origin = &plan.Range{File: o.Filename, Line: o.Start.Line, Column: o.Start.Column, EndLine: o.End.Line, EndColumn: o.End.Column}
				}
			}
			b.InputDigest = plan.InputDigest(&b, c.planRelease())
			out.of[i] = append(out.of[i], &b)
			out.origins[i] = append(out.origins[i], origins)
		}
	})
	return out, c.ctx.Err()
}

// targetSteps are a target's build steps, one per builder node, with what
// each needs, and its publish step when it pushes. A push to a registry no
// block declares is a warning, once per registry (warned).
func (c *compilation) targetSteps(r *resolved, bs []*plan.Build, byIn map[*instance]*resolved, regByHost map[string]*registryDecl, warned map[string]bool) ([]*plan.Step, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var steps []*plan.Step
	for j, node := range r.nodes {
		b := bs[j]
		if len(b.Platforms) == 1 {
			diags = append(diags, c.singlePlatformAnnotations(r, node.name)...)
		}
		st := &plan.Step{ID: r.buildID(node), Action: plan.ActionBuild, DeclaredAt: c.rangeOf(&r.in.decl.DeclRange), Build: b}
		st.Needs = c.buildNeeds(r, node, b, byIn)
		steps = append(steps, st)
	}
	if !r.push {
		return steps, diags
	}
	pub := &plan.Step{
		ID: "publish." + r.in.name, Action: plan.ActionPublish, DeclaredAt: c.rangeOf(r.pushRange.Ptr()),
		Publish: &plan.Publish{Target: r.in.name, Tags: r.build.Tags, Platforms: r.platforms},
	}
	for _, st := range steps {
		pub.Needs = append(pub.Needs, plan.Edge{Step: st.ID, Kind: plan.EdgeBuild})
	}
	for _, t := range r.build.Tags {
		// Tags are fully qualified by now, so the domain leads.
		domain, _, _ := strings.Cut(t, "/")
		if reg, ok := regByHost[domain]; ok {
			pub.Needs = append(pub.Needs, plan.Edge{Step: "registry." + reg.name, Kind: plan.EdgeHost})
		} else if !warned[domain] {
			warned[domain] = true
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Push to an undeclared registry",
				Detail:   fmt.Sprintf("target.%s pushes to %s, which no registry block declares, so bakeplan cannot check before the build that it is reachable and accepts multi-platform indexes. Declare registry \"NAME\" { host = %q }.", r.in.name, domain, domain),
				Subject:  c.declRange(r.in, "tags").Ptr(),
			})
		}
	}
	pub.Needs = tidyEdges(pub.Needs)
	return append(steps, pub), diags
}

// buildNeeds are the edges of one build step: its builder, the emulators
// and image store it uses, the builds feeding it contexts and those it
// depends on.
func (c *compilation) buildNeeds(r *resolved, node *builderDecl, b *plan.Build, byIn map[*instance]*resolved) []plan.Edge {
	needs := []plan.Edge{{Step: "builder." + node.name, Kind: plan.EdgeHost}}
	for _, run := range b.Platforms {
		if run.Emulator != "" {
			needs = append(needs, plan.Edge{Step: "host.emulator." + run.Emulator, Kind: plan.EdgeHost})
		}
	}
	if c.host.imageStore == storeContainerd && (r.dockerOut != nil || node.endpoint == "docker") {
		needs = append(needs, plan.Edge{Step: "host.docker.image_store", Kind: plan.EdgeHost})
	}
	for _, x := range r.contexts {
		if x.to != nil {
			needs = append(needs, plan.Edge{Step: byIn[x.to].buildID(node), Kind: plan.EdgeData, Name: x.name})
		}
	}
	for _, dep := range r.dependsOn {
		dr := byIn[dep.to]
		for _, dn := range dr.nodes {
			needs = append(needs, plan.Edge{Step: dr.buildID(dn), Kind: plan.EdgeOrder})
		}
	}
	return tidyEdges(needs)
}

// finish folds dependencies into the input digests, orders the steps and
// makes the plan.
func (c *compilation) finish(steps []*plan.Step, diags hcl.Diagnostics) (*plan.Plan, hcl.Diagnostics) {
	plan.FoldDependencies(steps)
	if !c.opts.Locking {
		// bakeplan lock is what fills the gaps these warnings point at.
		diags = append(diags, c.lockGaps(steps)...)
	}
	ordered, err := plan.Order(steps)
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Internal error", Detail: err.Error()})
	}
	p := &plan.Plan{
		FormatVersion:  plan.FormatVersion,
		Spec:           plan.Spec{File: c.opts.SpecFile, Digest: inputs.Bytes(c.spec.Source), Path: c.opts.SpecPath, Overrides: c.opts.OverridePaths},
		NativePlatform: c.native,
		Select:         c.opts.Select,
		Lock:           c.opts.LockFile,
		Release:        c.planRelease(),
		Set:            c.opts.Sets,
		Variables:      c.vars,
		Steps:          ordered,
	}
	if p.Variables == nil {
		p.Variables = []*plan.Variable{}
	}
	p.Index()
	// Offline, every node of a pool is taken to be up; an online plan
	// places the builds again around the nodes that are not.
	if err := placement.Place(p, nil); err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Internal error", Detail: err.Error()})
	}
	return p, diags
}

// inputs digests the files a target's build reads.
func (c *compilation) inputs(r *resolved) ([]*plan.Input, hcl.Diagnostics) {
	var ins []*plan.Input
	fail := func(what string, err error) hcl.Diagnostics {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read build input",
			Detail:   fmt.Sprintf("target.%s: reading %s: %s.", r.in.name, what, err),
			Subject:  r.in.decl.TypeRange.Ptr(),
		}}
	}
	if r.build.DockerfileInline != "" {
		ins = append(ins, &plan.Input{Kind: "dockerfile_inline", Digest: inputs.Bytes([]byte(r.build.DockerfileInline))})
	} else {
		d, err := c.digests.File(r.dockerfile)
		if err != nil {
			return nil, fail(r.build.Dockerfile, err)
		}
		ins = append(ins, &plan.Input{Kind: "dockerfile", Path: r.build.Dockerfile, Digest: d})
	}
	digest := c.digests.Context
	if r.build.Release {
		digest = c.digests.ReleaseContext // sent with git's modes
	}
	reads, why := c.readsOf(r)
	d, err := digest(r.contextDir, r.dockerfile, reads)
	if err != nil {
		return nil, fail("context "+r.build.Context, err)
	}
	ins = append(ins, &plan.Input{Kind: "context", Path: r.build.Context, Digest: d, Reads: reads, ReadsAll: why})
	for _, nc := range r.build.Contexts {
		if nc.Path == "" {
			continue
		}
		dir, _, _ := c.localPath(nc.Path, hcl.Range{}, true, "")
		d, err := digest(dir, "", nil)
		if err != nil {
			return nil, fail("context "+nc.Name, err)
		}
		ins = append(ins, &plan.Input{Kind: "context:" + nc.Name, Path: nc.Path, Digest: d})
	}
	return ins, nil
}

// readsOf is what r's builds read of their main context: the union, over
// every platform they build on every node, of what the Dockerfile reads
// (dockerfile.Result.Reads). Nil when that is the whole context, with why.
func (c *compilation) readsOf(r *resolved) ([]string, string) {
	if fe := r.customFrontend(); fe != "" {
		return nil, "the frontend " + fe + " reads the context its own way"
	}
	if r.df == nil {
		return nil, ""
	}
	set := map[string]bool{}
	for _, node := range r.nodes {
		buildPlat := c.buildPlatform(node)
		for _, run := range r.runs[node] {
			res, err := r.df.Analyze(r.dockerfileBuild(c.platform(run.Platform), buildPlat))
			if err != nil {
				return nil, "" // reported by the Dockerfile checks
			}
			if res.Reads == nil {
				return nil, res.ReadsAll
			}
			for _, p := range res.Reads {
				set[p] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set)), ""
}

// everyBuild is every target a run of all targets builds: all but the
// templates, those that failed to resolve included (their problems are
// the run's).
func (c *compilation) everyBuild(byIn map[*instance]*resolved) []*instance {
	var out []*instance
	for _, in := range c.targets {
		r := byIn[in]
		if r == nil && !c.abstract[in] || r != nil && !r.abstract {
			out = append(out, in)
		}
	}
	return out
}

// lazy is a target's build-level diagnostics as this run reports them:
// as they are for a target the run builds; for another, errors become
// warnings that say so under validate (Options.WarnUnbuilt) and are left
// out otherwise.
func (c *compilation) lazy(in *instance, diags hcl.Diagnostics) hcl.Diagnostics {
	if len(diags) == 0 || c.reached == nil || c.reached[in] {
		return diags
	}
	if !c.opts.WarnUnbuilt {
		return nil
	}
	out := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		w := *d
		if w.Severity == hcl.DiagError {
			w.Severity = hcl.DiagWarning
			w.Detail = strings.TrimSpace(w.Detail + fmt.Sprintf(" target.%s is not built by a plan of the default selection; a plan that builds it fails.", in.name))
		}
		out = append(out, &w)
	}
	return out
}

// groupNames evaluates a computed group's targets: a list of names of
// targets (a matrix's too) and groups.
func (c *compilation) groupNames(g *spec.Group) ([]string, hcl.Diagnostics) {
	if g.Expr == nil {
		return nil, nil
	}
	v, diags := g.Expr.Value(c.evalCtx(nil))
	if diags.HasErrors() {
		return nil, diags
	}
	bad := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid group targets",
		Detail:   fmt.Sprintf("group.%s: targets must be a list of references ([target.NAME]) or an expression giving a list of target and group names.", g.Name),
		Subject:  g.Expr.Range().Ptr(),
	}
	if v.IsNull() || !v.IsKnown() || !(v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType()) {
		return nil, hcl.Diagnostics{bad}
	}
	var names []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() || !e.IsKnown() || e.Type() != cty.String {
			return nil, hcl.Diagnostics{bad}
		}
		names = append(names, e.AsString())
	}
	return names, nil
}

// abstractTargets finds the targets used only as inherits parents: no group,
// depends_on or contexts names them. Like bake's templates they are checked
// but not built, so they need no Dockerfile of their own.
func (c *compilation) abstractTargets() map[*instance]bool {
	used := map[string]bool{}
	for _, g := range c.spec.Groups {
		for _, r := range g.Targets {
			used[r.Name] = true
		}
		names, _ := c.groupNames(g)
		for _, n := range names {
			used[n] = true
		}
	}
	parent := map[string]bool{}
	for _, t := range c.spec.Targets {
		for _, r := range t.DependsOn {
			used[r.Name] = true
		}
		for _, nc := range t.Contexts {
			if nc.Target != nil {
				used[nc.Target.Name] = true
			}
		}
		for _, r := range t.Inherits {
			parent[r.Name] = true
		}
	}
	out := map[*instance]bool{}
	for _, in := range c.targets {
		if parent[in.name] && !used[in.name] && !used[in.decl.Name] {
			out[in] = true
		}
	}
	return out
}

// named reports whether Options.Select names the target itself.
func (c *compilation) named(in *instance) bool {
	for _, n := range c.opts.Select {
		if n == in.name || n == in.decl.Name {
			return true
		}
	}
	return false
}

// checkTagOwners refuses two targets built in one run that write the same
// tag: whichever finished last would win. Targets not selected together
// may share one (bake files give alternatives such as image and
// image-cross one tag through a template, as docker/metadata-action's
// target is used); a template itself is never built.
func checkTagOwners(all []*resolved, selected map[*resolved]bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	owner := map[string]*resolved{}
	for _, r := range all {
		if r.abstract || !selected[r] {
			continue
		}
		for _, t := range r.build.Tags {
			if o, ok := owner[t]; ok && o != r {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Tag written by two targets",
					Detail:   fmt.Sprintf("target.%s and target.%s both tag %s; the result would depend on which finishes last.", o.in.name, r.in.name, t),
					Subject:  r.in.decl.TypeRange.Ptr(),
				})
				continue
			}
			owner[t] = r
		}
	}
	return diags
}

// selection returns the targets to plan: those named in Options.Select (or
// the default group, or all) and everything they depend on. Every group is
// checked, selected or not.
func (c *compilation) selection(byIn map[*instance]*resolved) (map[*resolved]bool, hcl.Diagnostics) {
	g := &groupExpander{c: c, expanded: map[string][]*instance{}}
	// As bake, a group is resolved when a run builds it: the groups this
	// run selects (and the groups they hold) report their problems as
	// errors; any other group's are warnings.
	var chosen []string
	switch {
	case len(c.opts.Select) > 0:
		for _, name := range c.opts.Select {
			if _, ok := c.groups[name]; ok {
				chosen = append(chosen, name)
			}
		}
	case !c.opts.All && c.groups["default"] != nil:
		chosen = []string{"default"}
	}
	g.report = &g.diags
	for _, name := range chosen {
		g.expand(name, nil)
	}
	var lazy hcl.Diagnostics
	g.report = &lazy
	for _, name := range sortedKeys(c.groups) {
		g.expand(name, nil)
	}
	diags := g.diags
	for _, d := range lazy {
		w := *d
		w.Severity = hcl.DiagWarning
		w.Detail = strings.TrimSpace(w.Detail + " No group this run builds holds it; a run that builds it fails.")
		diags = append(diags, &w)
	}
	roots, d := c.roots(byIn, g.expanded)
	return c.reach(roots, byIn), append(diags, d...)
}

// groupExpander expands groups into the targets they hold, once each.
type groupExpander struct {
	c        *compilation
	expanded map[string][]*instance
	diags    hcl.Diagnostics
	// report is where a group's problems go: diags, or lazy ones.
	report *hcl.Diagnostics
}

func (g *groupExpander) expand(name string, stack []string) []*instance {
	c := g.c
	if ins, ok := g.expanded[name]; ok {
		return ins
	}
	for _, s := range stack {
		if s == name {
			// A cycle is the language's to refuse, built or not.
			g.diags = append(g.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cycle in groups",
				Detail:   fmt.Sprintf("group.%s contains itself: group.%s.", name, strings.Join(append(stack, name), " -> group.")),
				Subject:  c.groups[name].DeclRange.Ptr(),
			})
			return nil
		}
	}
	grp := c.groups[name]
	var out []*instance
	refs := grp.Targets
	if grp.Expr != nil {
		names, d := c.groupNames(grp)
		*g.report = append(*g.report, d...)
		for _, n := range names {
			kind := "target"
			if _, ok := c.groups[n]; ok {
				kind = "group"
			}
			refs = append(refs, spec.Ref{Kind: kind, Name: n, Range: grp.Expr.Range()})
		}
	}
	for _, ref := range refs {
		if ref.Kind == "group" {
			if _, ok := c.groups[ref.Name]; !ok {
				*g.report = append(*g.report, unknownRef("group", "group", ref.Name, sortedKeys(c.groups), ref.Range))
				continue
			}
			out = append(out, g.expand(ref.Name, append(stack, name))...)
			continue
		}
		ins, d := c.resolveTargets(ref.Name, ref.Range)
		if d != nil {
			*g.report = append(*g.report, d)
			continue
		}
		out = append(out, ins...)
	}
	g.expanded[name] = out
	return out
}

// roots are the targets the run asks for: those selected by name (a
// group, a matrix or a target), else the default group, else every one.
func (c *compilation) roots(byIn map[*instance]*resolved, expanded map[string][]*instance) ([]*instance, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var roots []*instance
	switch {
	case c.opts.All:
		roots = c.everyBuild(byIn)
	case len(c.opts.Select) > 0:
		for _, name := range c.opts.Select {
			if _, ok := c.groups[name]; ok {
				roots = append(roots, expanded[name]...)
				continue
			}
			if ins, ok := c.matrix[name]; ok {
				roots = append(roots, ins...)
				continue
			}
			if in, ok := c.byName[name]; ok {
				roots = append(roots, in)
				continue
			}
			detail := fmt.Sprintf("The spec has no target or group named %q.", name)
			if s := suggest(name, append(c.targetNames(), sortedKeys(c.groups)...)); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown target or group", Detail: detail})
		}
	case c.groups["default"] != nil:
		roots = expanded["default"]
	default:
		roots = c.everyBuild(byIn)
	}
	return roots, diags
}

// reach selects the roots and everything they need (depends_on, target
// contexts), noting every instance reached.
func (c *compilation) reach(roots []*instance, byIn map[*instance]*resolved) map[*resolved]bool {
	selected := map[*resolved]bool{}
	c.reached = map[*instance]bool{}
	var visit func(in *instance)
	visit = func(in *instance) {
		c.reached[in] = true
		r := byIn[in]
		if r == nil || selected[r] {
			return
		}
		selected[r] = true
		for _, d := range r.dependsOn {
			visit(d.to)
		}
		for _, x := range r.contexts {
			if x.to != nil {
				visit(x.to)
			}
		}
	}
	for _, in := range roots {
		visit(in)
	}
	return selected
}

func (c *compilation) rangeOf(r *hcl.Range) *plan.Range {
	if r == nil || r.Filename == "" {
		return nil
	}
	file := r.Filename
	if file == c.spec.Filename {
		file = c.opts.SpecFile
	}
	return &plan.Range{File: file, Line: r.Start.Line, Column: r.Start.Column, EndLine: r.End.Line, EndColumn: r.End.Column}
}

func tidyEdges(es []plan.Edge) []plan.Edge {
	sort.Slice(es, func(i, j int) bool {
		if es[i].Step != es[j].Step {
			return es[i].Step < es[j].Step
		}
		if es[i].Kind != es[j].Kind {
			return es[i].Kind < es[j].Kind
		}
		return es[i].Name < es[j].Name
	})
	out := es[:0]
	for _, e := range es {
		if len(out) > 0 && e == out[len(out)-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// singlePlatformAnnotations refuses index annotations on a build that
// exports one platform: BuildKit writes a bare manifest then, with no index
// to annotate, and fails the export after the whole build ran.
func (c *compilation) singlePlatformAnnotations(r *resolved, node string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, k := range sortedKeys(r.build.Annotations) {
		typ, _, ok := strings.Cut(k, ":")
		if !ok || (typ != "index" && typ != "index-descriptor") {
			continue
		}
		on := ""
		if len(r.nodes) > 1 {
			on = fmt.Sprintf(" on builder.%s (the target is split across builders)", node)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Index annotation on a single-platform build",
			Detail:   fmt.Sprintf("target.%s builds one platform%s, which BuildKit exports as a single manifest with no index, so the annotation %q cannot be written. Use a manifest: annotation, or build more platforms.", r.in.name, on, k),
			Subject:  c.declRange(r.in, "annotations").Ptr(),
		})
	}
	return diags
}
