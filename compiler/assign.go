package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
)

type platformsSpec = platforms.Platform

// assign decides, for every platform of a target, the builder node that
// builds it and whether it runs natively there or under an emulator.
//
// A pinned target uses its builder. Otherwise a platform goes to the first
// declared builder that serves it natively; failing that, to the default
// local builder (the one named "default", else the first local one) under a
// declared emulator. Anything else is an error now rather than an "exec
// format error" mid-build.
func (c *compilation) assign(r *resolved) hcl.Diagnostics {
	var diags hcl.Diagnostics
	r.runs = map[*builderDecl][]plan.PlatformRun{}
	emuHost := r.pin
	if emuHost == nil {
		emuHost = c.defaultLocal()
	}
	candidates := c.builders
	if r.pin != nil {
		candidates = []*builderDecl{r.pin}
	}
	for i, p := range r.platforms {
		pp := c.platform(p)
		var node *builderDecl
		for _, b := range candidates {
			if servesNatively(b, pp) {
				node = b
				break
			}
		}
		if node != nil {
			r.runs[node] = append(r.runs[node], plan.PlatformRun{Platform: p, Native: true})
			continue
		}
		// The Dockerfile decides whether a foreign platform needs an
		// emulator at all: only a RUN in a stage that runs on it does.
		var emu emulation
		if emuHost != nil && len(emuHost.platforms) > 0 {
			emu = c.emulationFor(r, pp, c.platform(emuHost.platforms[0]))
		}
		if emu.known && len(emu.stages) == 0 && emuHost != nil {
			r.runs[emuHost] = append(r.runs[emuHost], plan.PlatformRun{Platform: p, CrossCompiled: true})
			continue
		}
		// QEMU's user-mode emulation runs Linux binaries only: a Windows
		// or FreeBSD platform needs a builder that declares it.
		if _, ok := c.host.emulators[pp.Architecture]; ok && pp.OS == "linux" && emuHost != nil && emuHost.local {
			r.runs[emuHost] = append(r.runs[emuHost], plan.PlatformRun{Platform: p, Emulator: pp.Architecture, Stages: emu.stageNames(), RunSteps: emu.runs})
			continue
		}
		rng := r.in.decl.TypeRange
		if r.platExpr != nil {
			rng = elementRange(r.platExpr, i)
		}
		detail := c.noBuilderDetail(r, pp, emuHost)
		if emu.known {
			detail += fmt.Sprintf(" It needs emulation for %s (%d RUN step(s) in stage(s) %s run on %s).", emu.firstRun(r.build.Dockerfile), emu.runs, strings.Join(emu.stageNames(), ", "), p)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  fmt.Sprintf("No builder serves %s", p),
			Detail:   detail,
			Subject:  rng.Ptr(),
		})
	}
	for _, b := range c.builders {
		if _, ok := r.runs[b]; ok {
			r.nodes = append(r.nodes, b)
		}
	}
	return diags
}

func (c *compilation) noBuilderDetail(r *resolved, p platformsSpec, emuHost *builderDecl) string {
	var served []string
	cands := c.builders
	if r.pin != nil {
		cands = []*builderDecl{r.pin}
	}
	for _, b := range cands {
		served = append(served, fmt.Sprintf("builder.%s serves %s", b.name, strings.Join(b.platforms, ", ")))
	}
	plat := platforms.Format(p)
	var why string
	switch {
	case p.OS != "linux":
		return fmt.Sprintf("target.%s needs %s, but %s natively, and only Linux platforms can be emulated (QEMU's binfmt_misc runs Linux binaries). Declare a builder that serves %s natively.",
			r.in.name, plat, strings.Join(served, "; "), plat)
	case emulatorInterpreters[p.Architecture] == "":
		return fmt.Sprintf("target.%s needs %s, but %s natively, and QEMU has no user-mode emulator for %s. Declare a builder that serves %s natively.",
			r.in.name, plat, strings.Join(served, "; "), p.Architecture, plat)
	case emuHost == nil:
		why = "no local builder is declared that could run it under emulation"
	case !emuHost.local:
		why = fmt.Sprintf("builder.%s is remote, so this host's emulators cannot help it", emuHost.name)
	default:
		why = fmt.Sprintf("host.emulators does not list %q", p.Architecture)
	}
	return fmt.Sprintf("target.%s needs %s, but %s natively, and %s. Add %q to host { emulators = [...] }, or declare a builder that serves %s natively.",
		r.in.name, plat, strings.Join(served, "; "), why, p.Architecture, plat)
}

func (c *compilation) defaultLocal() *builderDecl {
	for _, b := range c.builders {
		if b.name == "default" && b.local {
			return b
		}
	}
	for _, b := range c.builders {
		if b.local {
			return b
		}
	}
	return nil
}

func servesNatively(b *builderDecl, p platformsSpec) bool {
	if b.native == nil {
		// Building containerd's matchers is costly; once per builder will do.
		for _, s := range b.platforms {
			b.native = append(b.native, platforms.Only(platforms.MustParse(s)))
		}
	}
	for _, m := range b.native {
		if m.Match(p) {
			return true
		}
	}
	return false
}

// checkContextPlatforms insists that a target used as a named context builds
// every platform of its user, on the same builder node: BuildKit feeds one
// build's result into another only within one daemon. As in bake, a target
// that builds one platform feeds that one result to every platform of its
// user (a platform-independent stage, such as tonistiigi/xx's).
func (c *compilation) checkContextPlatforms(r *resolved, all map[*instance]*resolved) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, e := range r.contexts {
		if e.to == nil {
			continue
		}
		dep := all[e.to]
		if dep == nil {
			continue
		}
		has := map[string]bool{}
		for _, p := range dep.platforms {
			has[p] = true
		}
		var missing []string
		for _, p := range r.platforms {
			if !has[p] && len(dep.platforms) != 1 {
				missing = append(missing, p)
			}
		}
		if len(missing) > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Context target misses platforms",
				Detail: fmt.Sprintf("target.%s uses target.%s as context %q for %s, but target.%s does not build %s.",
					r.in.name, dep.in.name, e.name, strings.Join(r.platforms, ", "), dep.in.name, strings.Join(missing, ", ")),
				Subject: e.rng.Ptr(),
			})
			continue
		}
		for node, runs := range r.runs {
			for _, run := range runs {
				depPlatform := run.Platform
				if len(dep.platforms) == 1 {
					depPlatform = dep.platforms[0]
				}
				if depNode := dep.nodeOf(depPlatform); depNode != node {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Context crosses builders",
						Detail: fmt.Sprintf("target.%s builds %s on builder.%s, but its context target.%s builds it on builder.%s; a named context is passed within one builder. Pin both targets to one builder with builder = builder.NAME.",
							r.in.name, run.Platform, node.name, dep.in.name, depNode.name),
						Subject: e.rng.Ptr(),
					})
				}
			}
		}
	}
	return diags
}

func (r *resolved) nodeOf(p string) *builderDecl {
	for node, runs := range r.runs {
		for _, run := range runs {
			if run.Platform == p {
				return node
			}
		}
	}
	return nil
}

// buildID names a target's build step on a node: build.NAME, or
// build.NAME@BUILDER when the target is split across nodes.
func (r *resolved) buildID(node *builderDecl) string {
	if len(r.nodes) > 1 {
		return "build." + r.in.name + "@" + node.name
	}
	return "build." + r.in.name
}

func sortedRuns(runs []plan.PlatformRun) []plan.PlatformRun {
	sort.Slice(runs, func(i, j int) bool { return runs[i].Platform < runs[j].Platform })
	return runs
}
