package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/bakeplan/bakeplan/compiler/dockerfile"
	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
)

// parsedDockerfile is one Dockerfile, parsed once however many targets use
// it.
type parsedDockerfile struct {
	once sync.Once
	file *dockerfile.File
	err  error
	data []byte // as read, for a custom frontend's check
	// frontend is the custom frontend the file's "# syntax=" names, if
	// any (dockerfile.CustomFrontend).
	frontend string
	// lint findings are reported once per file, with the first target
	// that reads it.
	reported sync.Once
}

// dockerfileOf parses the target's Dockerfile (file or inline), once per
// distinct file. It returns nil without error for a target whose
// Dockerfile cannot be read here (an abstract template).
func (c *compilation) dockerfileOf(r *resolved) (*dockerfile.File, error) {
	var key, name string
	var read func() ([]byte, error)
	switch {
	case r.build.DockerfileInline != "":
		key = "inline:" + inputs.Bytes([]byte(r.build.DockerfileInline))
		name = "target." + r.in.name + ".dockerfile_inline"
		read = func() ([]byte, error) { return []byte(r.build.DockerfileInline), nil }
	case r.dockerfile != "":
		key, name = r.dockerfile, r.build.Dockerfile
		read = func() ([]byte, error) { return fs.ReadFile(c.opts.FS, r.dockerfile) }
	default:
		return nil, nil
	}
	c.dockerfilesMu.Lock()
	pd := c.dockerfiles[key]
	if pd == nil {
		pd = &parsedDockerfile{}
		c.dockerfiles[key] = pd
	}
	c.dockerfilesMu.Unlock()
	r.pd = pd
	pd.once.Do(func() {
		data, err := read()
		if err != nil {
			pd.err = err
			return
		}
		pd.data = data
		if pd.frontend = dockerfile.CustomFrontend("", data); pd.frontend != "" {
			return // not a Dockerfile: its frontend reads it
		}
		pd.file, pd.err = dockerfile.Parse(name, data)
	})
	if pd.data != nil && pd.customFor(r) != "" {
		return nil, nil
	}
	return pd.file, pd.err
}

// customFrontend is the custom frontend r builds its file with, or "".
func (r *resolved) customFrontend() string {
	if r.df != nil || r.pd == nil || r.pd.data == nil {
		return ""
	}
	return r.pd.customFor(r)
}

// customFor is the custom frontend a target builds the file with: its
// BUILDKIT_SYNTAX build arg, else the file's own "# syntax=".
func (pd *parsedDockerfile) customFor(r *resolved) string {
	if arg := r.build.Args["BUILDKIT_SYNTAX"]; arg != "" {
		return dockerfile.CustomFrontend(arg, nil)
	}
	return pd.frontend
}

// buildkitArgs are build args BuildKit reads itself, which no ARG needs to
// declare.
func buildkitArg(name string) bool {
	switch strings.ToUpper(name) {
	case "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY", "SOURCE_DATE_EPOCH":
		return true
	}
	return strings.HasPrefix(name, "BUILDKIT_")
}

// checkDockerfile reads the target's Dockerfile and checks the spec against
// it: the target stage exists, every FROM names a stage, a named context or
// an image, and every build arg and named context is used (warnings, as
// BuildKit ignores them silently). The analysis stays with r for assign.
func (c *compilation) checkDockerfile(r *resolved) hcl.Diagnostics {
	f, err := c.dockerfileOf(r)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // reported as a missing Dockerfile already
		}
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Dockerfile does not parse",
			Detail:   fmt.Sprintf("target.%s builds %s", r.in.name, err),
			Subject:  c.dockerfileRange(r).Ptr(),
		}}
	}
	if f == nil {
		if r.pd != nil && r.pd.data != nil {
			fe := r.pd.customFor(r)
			return hcl.Diagnostics{{
				Severity: hcl.DiagWarning,
				Summary:  "Not a Dockerfile",
				Detail:   fmt.Sprintf("target.%s builds %s with the frontend %s, which bakeplan cannot read: its stages, args and images are not checked, and every foreign platform is planned under emulation.", r.in.name, r.build.Dockerfile, fe),
				Subject:  c.dockerfileRange(r).Ptr(),
			}}
		}
		return nil
	}
	r.df = f
	var diags hcl.Diagnostics
	diags = append(diags, c.lintOnce(r, f)...)
	// One analysis serves the checks and, usually, every foreign platform
	// (emulationFor): take a foreign platform when the target has one.
	native := c.nativePlatform
	plat := native
	for _, p := range r.platforms {
		if p != c.native {
			plat = c.platform(p)
			break
		}
	}
	res, err := f.Analyze(r.dockerfileBuild(plat, native))
	if err == nil && platforms.Format(plat) != c.native {
		r.keepEmulation(c.emulationKey(f, plat, native), emulationOf(res, native))
	}
	var te *dockerfile.TargetError
	switch {
	case errors.As(err, &te):
		detail := fmt.Sprintf("target.%s builds the stage %q, which %s does not have; its stages are %s.", r.in.name, te.Target, f.Name, strings.Join(te.Stages, ", "))
		if s := suggest(te.Target, te.Stages); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown target stage", Detail: detail, Subject: c.declRange(r.in, "target").Ptr()})
	case err != nil:
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid Dockerfile",
			Detail:   fmt.Sprintf("target.%s builds %s", r.in.name, err),
			Subject:  c.dockerfileRange(r).Ptr(),
		})
	}
	for _, k := range sortedKeys(r.build.Args) {
		if !res.Args[k] && !buildkitArg(k) && !f.Skips("UnusedBuildArg") {
			r.unusedArgs = append(r.unusedArgs, k)
		}
	}
	for _, ic := range contextsOf(r.in) {
		if !res.Contexts[ic.nc.Name] && !f.Skips("UnusedNamedContext") {
			r.unusedContexts = append(r.unusedContexts, ic.nc)
		}
	}
	return diags
}

// dockerfileBuild is the build of r's Dockerfile for one platform. The
// parts every platform shares are made once per target.
func (r *resolved) dockerfileBuild(plat, buildPlat platforms.Platform) dockerfile.Build {
	if r.dfBuild == nil {
		ctxs := map[string]bool{}
		for _, nc := range r.build.Contexts {
			ctxs[nc.Name] = true
		}
		b := dockerfile.Build{Target: r.build.Stage, Args: r.build.Args, Contexts: ctxs}
		if r.df != nil {
			b.Key = r.df.BuildKey(b)
		}
		r.dfBuild = &b
	}
	b := *r.dfBuild
	b.Platform, b.BuildPlatform = plat, buildPlat
	return b
}

func (c *compilation) dockerfileRange(r *resolved) hcl.Range {
	if _, ok := r.in.exprs["dockerfile_inline"]; ok {
		return c.declRange(r.in, "dockerfile_inline")
	}
	return c.declRange(r.in, "dockerfile")
}

// emulation is what a foreign platform of a build needs: nothing when every
// RUN of the stages built for it runs on the builder's own platform (the
// build cross-compiles), else the RUN steps that run on other platforms.
type emulation struct {
	known  bool // the Dockerfile could be analysed
	stages []dockerfile.Stage
	runs   int
}

// emulationFor works out what building r for p on a builder whose native
// platform is buildPlat needs.
func (c *compilation) emulationFor(r *resolved, p, buildPlat platforms.Platform) emulation {
	if r.df == nil {
		return emulation{}
	}
	// Without a TARGET* ARG where stages are chosen, every foreign
	// platform runs the same stages the same way: analyse once.
	key := c.emulationKey(r.df, p, buildPlat)
	if e, ok := r.emulations[key]; ok {
		return e
	}
	e := c.analyseEmulation(r, p, buildPlat)
	r.keepEmulation(key, e)
	return e
}

// keepEmulation remembers what a foreign platform needs, by emulationKey.
func (r *resolved) keepEmulation(key string, e emulation) {
	if r.emulations == nil {
		r.emulations = map[string]emulation{}
	}
	r.emulations[key] = e
}

func (c *compilation) emulationKey(f *dockerfile.File, p, buildPlat platforms.Platform) string {
	key := "foreign " + platforms.Format(buildPlat)
	// A platform the builder runs itself (linux/386 on linux/amd64) finds
	// no RUN to emulate; its result must not stand for foreign ones.
	if f.TargetDependent() || c.runsItself(buildPlat, p) {
		key = platforms.Format(p) + " " + key
	}
	return key
}

func (c *compilation) analyseEmulation(r *resolved, p, buildPlat platforms.Platform) emulation {
	res, err := r.df.Analyze(r.dockerfileBuild(p, buildPlat))
	if err != nil {
		return emulation{}
	}
	return emulationOf(res, buildPlat)
}

// emulationOf picks, from an analysed build, the RUN steps that run on
// another platform than the builder's.
func emulationOf(res *dockerfile.Result, buildPlat platforms.Platform) emulation {
	e := emulation{known: true}
	var native platforms.MatchComparer
	for _, s := range res.Stages {
		if len(s.Runs) == 0 {
			continue
		}
		if native == nil {
			native = platforms.Only(buildPlat)
		}
		if !native.Match(s.Platform) {
			e.stages = append(e.stages, s)
			e.runs += len(s.Runs)
		}
	}
	return e
}

func (e emulation) stageNames() []string {
	var out []string
	for _, s := range e.stages {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// firstRun names the first RUN that needs emulation, as file:line.
func (e emulation) firstRun(file string) string {
	for _, s := range e.stages {
		if len(s.Runs) > 0 {
			return fmt.Sprintf("the RUN at %s:%d in stage %s", path.Base(file), s.Runs[0], s.Name)
		}
	}
	return ""
}

// lintOnce runs BuildKit's lint rules over f the first time a target reads
// it: warnings at the Dockerfile's lines (errors with Options.Strict).
func (c *compilation) lintOnce(r *resolved, f *dockerfile.File) hcl.Diagnostics {
	pd := r.pd
	if pd == nil || !c.opts.Lint {
		return nil
	}
	var diags hcl.Diagnostics
	pd.reported.Do(func() {
		findings, err := dockerfile.Lint(c.ctx, f.Name, f.Data)
		if err != nil {
			return // the checks below report what does not parse
		}
		sev := hcl.DiagWarning
		if c.opts.Strict {
			sev = hcl.DiagError
		}
		for _, fd := range findings {
			d := &hcl.Diagnostic{
				Severity: sev,
				Summary:  "Dockerfile lint: " + fd.Rule,
				Detail:   fmt.Sprintf("%s (%s)", fd.Detail, fd.URL),
			}
			if r.dockerfile != "" && fd.Line > 0 {
				d.Subject = c.dockerfileLine(r, fd.Line).Ptr()
			} else {
				d.Detail = fmt.Sprintf("%s, line %d: %s", f.Name, fd.Line, d.Detail)
				d.Subject = c.dockerfileRange(r).Ptr()
			}
			diags = append(diags, d)
		}
	})
	return diags
}

// unusedWarnings reports the build args and named contexts no built stage
// uses, one warning per name however many targets pass it: a common arg
// passed to a thousand targets is one finding, not a thousand.
func (c *compilation) unusedWarnings(all []*resolved) hcl.Diagnostics {
	var args, ctxs unusedGroups
	for _, r := range all {
		for _, k := range r.unusedArgs {
			args.add(k, r, c.declRange(r.in, "args"))
		}
		for _, nc := range r.unusedContexts {
			ctxs.add(nc.Name, r, nc.DeclRange)
		}
	}
	return append(
		args.warnings("Build arg no ARG declares", "%s the build arg %s, but no ARG of the stages built declares it (%s), so BuildKit ignores it."),
		ctxs.warnings("Named context no stage uses", "%s the context %q, but no FROM, COPY --from or RUN --mount=from of the stages built names it (%s).")...)
}

// unusedGroups gathers, per name, the targets that pass it unused, in the
// order names are first met.
type unusedGroups struct {
	by    map[string]*unusedGroup
	order []*unusedGroup
}

type unusedGroup struct {
	name    string
	first   *resolved
	rng     hcl.Range // where the first target passes it
	targets []string
}

func (gs *unusedGroups) add(name string, r *resolved, rng hcl.Range) {
	g := gs.by[name]
	if g == nil {
		if gs.by == nil {
			gs.by = map[string]*unusedGroup{}
		}
		g = &unusedGroup{name: name, first: r, rng: rng}
		gs.by[name] = g
		gs.order = append(gs.order, g)
	}
	g.targets = append(g.targets, r.in.name)
}

// warnings makes one warning per name; format takes who passes it, the
// name and the first target's Dockerfile.
func (gs *unusedGroups) warnings(summary, format string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, g := range gs.order {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  summary,
			Detail:   fmt.Sprintf(format, passes(g.targets), g.name, g.first.df.Name),
			Subject:  g.rng.Ptr(),
		})
	}
	return diags
}

// passes is "target.a passes" or "target.a, target.b and 5 more targets
// pass".
func passes(names []string) string {
	if len(names) == 1 {
		return "target." + names[0] + " passes"
	}
	return targetList(names) + " pass"
}

// targetList names a few targets and counts the rest.
func targetList(names []string) string {
	const shown = 3
	out := "target." + names[0]
	for i := 1; i < len(names) && i < shown; i++ {
		out += ", target." + names[i]
	}
	if len(names) > shown {
		out += fmt.Sprintf(" and %d more targets", len(names)-shown)
	}
	return out
}

// runsItself says whether a builder of platform b runs p without an
// emulator; the matcher is made once per builder platform, as every
// target's every platform asks.
func (c *compilation) runsItself(b, p platforms.Platform) bool {
	key := platforms.Format(b)
	m, ok := c.onlyMatchers.Load(key)
	if !ok {
		m, _ = c.onlyMatchers.LoadOrStore(key, platforms.Only(b))
	}
	return m.(platforms.MatchComparer).Match(p)
}
