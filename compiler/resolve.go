package compiler

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/compiler/dockerfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/bakeplan/bakeplan/targetattr"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// resolved is a target with every attribute checked and turned into plan
// terms, before platforms are assigned to builders.
type resolved struct {
	in        *instance
	platforms []string
	platExpr  hcl.Expression // nil when platforms defaulted
	pin       *builderDecl
	dependsOn []depEdge
	contexts  []ctxEdge
	build     plan.Build // everything but Target, Builder, Platforms, Inputs
	push      bool
	pushRange hcl.Range
	dockerOut *hcl.Range // where a docker output is declared
	// obj is the target's attributes as evaluated, with --set applied.
	obj attrValues
	// outputNames are the names bake's outputs give the image
	// (type=docker,name=...), which join the tags.
	outputNames      []string
	outputNamesRange hcl.Range

	// abstract targets serve only as inherits parents: they are never built
	// unless named explicitly, so their files are not required.
	abstract bool

	contextDir string            // within the FS
	dockerfile string            // within the FS; "" with dockerfile_inline
	df         *dockerfile.File  // parsed; nil when it could not be read
	dfBuild    *dockerfile.Build // what every platform's build shares (dockerfileBuild)
	pd         *parsedDockerfile
	// what the Dockerfile does not use, reported per name (unusedWarnings)
	unusedArgs     []string
	unusedContexts []*spec.NamedContext
	emulations     map[string]emulation
	runs           map[*builderDecl][]plan.PlatformRun
	nodes          []*builderDecl // the keys of runs, in builder order
}

type depEdge struct {
	to  *instance
	rng hcl.Range
}

type ctxEdge struct {
	name string
	to   *instance // nil for a path or image
	rng  hcl.Range
}

func (c *compilation) declRange(in *instance, attr string) hcl.Range {
	if e, ok := in.exprs[attr]; ok {
		return e.Range()
	}
	return in.decl.TypeRange
}

// resolve checks one target's attributes.
func (c *compilation) resolve(in *instance, abstract bool) (*resolved, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	r := &resolved{in: in, abstract: abstract}
	obj := in.obj
	if len(c.overrides) > 0 {
		// --set applies to the target as evaluated, after inherits: once
		// per target, not again through a parent it matched too.
		obj = maps.Clone(obj)
		if d := applyOverrides(in.name, obj, c.overrides); d.HasErrors() {
			return nil, d
		}
	}
	r.obj = obj

	// A sensitive value where the plan would show it is an error (and
	// reading it unmarked would not be safe).
	for _, a := range targetattr.All {
		if v, ok := obj[a.Name]; ok && !a.MayBeSensitive && v.ContainsMarked() {
			diags = append(diags, sensitiveHere(a.Name, c.declRange(in, a.Name)))
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	d, ok := c.resolvePlatforms(r)
	if diags = append(diags, d...); !ok {
		return nil, diags
	}
	diags = append(diags, c.resolveBuilderPin(r)...)
	allowExternal := boolAttr(obj, "allow_external_paths")
	diags = append(diags, c.resolveEdges(r, allowExternal)...)
	diags = append(diags, c.resolveFiles(r, allowExternal)...)
	diags = append(diags, c.resolveRelease(r)...)
	diags = append(diags, c.resolveRunOptions(r)...)
	diags = append(diags, c.resolvePlain(r)...)
	diags = append(diags, resolveByKind(r, byKind, func(name string) hcl.Range { return c.declRange(in, name) })...)
	diags = append(diags, c.resolveExports(r)...)
	if !abstract && !diags.HasErrors() {
		diags = append(diags, c.checkDockerfile(r)...)
	}
	return r, diags
}

// resolvePlatforms reads the platforms to build (default: the native
// one); false means the target cannot be resolved further.
func (c *compilation) resolvePlatforms(r *resolved) (hcl.Diagnostics, bool) {
	var diags hcl.Diagnostics
	in, obj := r.in, r.obj
	if v := obj.GetAttr("platforms"); !v.IsNull() && v.LengthInt() > 0 {
		r.platExpr = in.exprs["platforms"]
		for it := v.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				// Dropping it would drop the target's only platform,
				// and with it the build, without a word.
				return append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Null platform",
					Detail:   fmt.Sprintf("target.%s lists a platform that is null, such as a variable with no value; set it, or leave it out of the list.", in.name),
					Subject:  c.declRange(in, "platforms").Ptr(),
				}), false
			}
		}
		ps, d := c.checkPlatforms(strList(v), r.platExpr)
		diags = append(diags, d...)
		r.platforms = ps
	} else {
		r.platforms = []string{c.native}
	}

	return diags, true
}

// resolveBuilderPin finds the builder the target names, if it names one.
func (c *compilation) resolveBuilderPin(r *resolved) hcl.Diagnostics {
	var diags hcl.Diagnostics
	in := r.in
	if ref := in.decl.Builder; ref != nil {
		for _, b := range c.builders {
			if b.name == ref.Name {
				r.pin = b
			}
		}
		if r.pin == nil {
			var names []string
			for _, b := range c.builders {
				names = append(names, b.name)
			}
			diags = append(diags, unknownRef("builder", "builder", ref.Name, names, ref.Range))
		}
	}

	return diags
}

// resolveEdges reads what the target depends on and its named contexts:
// other targets, directories and images.
func (c *compilation) resolveEdges(r *resolved, allowExternal bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	in := r.in
	for _, ref := range in.decl.DependsOn {
		deps, d := c.resolveTargets(ref.Name, ref.Range)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		for _, dep := range deps {
			r.dependsOn = append(r.dependsOn, depEdge{to: dep, rng: ref.Range})
		}
	}
	targetContext := func(nc *spec.NamedContext, name string, rng hcl.Range) {
		dep, d := c.resolveTarget(name, rng)
		if d != nil {
			diags = append(diags, d)
			return
		}
		r.contexts = append(r.contexts, ctxEdge{name: nc.Name, to: dep, rng: nc.DeclRange})
		r.build.Contexts = append(r.build.Contexts, &plan.NamedContext{Name: nc.Name, Target: dep.name})
	}
	for _, ic := range contextsOf(in) {
		nc := ic.nc
		if nc.Target != nil {
			targetContext(nc, nc.Target.Name, nc.Target.Range)
			continue
		}
		pc, d := c.namedContext(nc.Name, nc.Expr, ic.ctx, allowExternal)
		diags = append(diags, d...)
		if pc != nil && pc.Target != "" {
			// An expression that chose a target (var.X ? target.a : "…").
			targetContext(nc, pc.Target, nc.Expr.Range())
			continue
		}
		if pc != nil {
			r.contexts = append(r.contexts, ctxEdge{name: nc.Name, rng: nc.DeclRange})
			r.build.Contexts = append(r.build.Contexts, pc)
		}
	}
	sort.Slice(r.build.Contexts, func(i, j int) bool { return r.build.Contexts[i].Name < r.build.Contexts[j].Name })

	return diags
}

// resolveFiles finds the context directory and the Dockerfile (or its
// inline text), each checked to exist unless the target is abstract.
func (c *compilation) resolveFiles(r *resolved, allowExternal bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	in, obj, abstract := r.in, r.obj, r.abstract
	ctxRel := strAttr(obj, "context", ".")
	ctxDir, rel, d := c.localPath(ctxRel, c.declRange(in, "context"), allowExternal, "context")
	diags = append(diags, d...)
	if !d.HasErrors() {
		r.build.Context = rel
		r.contextDir = ctxDir
		if st, err := c.stat(ctxDir); !abstract && (err != nil || !st.IsDir()) {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Context directory not found",
				Detail:   fmt.Sprintf("target.%s builds from %q, which is not a directory%s.", in.name, rel, statReason(err)),
				Subject:  c.declRange(in, "context").Ptr(),
			})
		}
	}
	if v := obj.GetAttr("dockerfile_inline"); !v.IsNull() {
		r.build.DockerfileInline = v.AsString()
		if _, set := in.exprs["dockerfile"]; set {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Conflicting Dockerfile attributes",
				Detail:   "Set dockerfile or dockerfile_inline, not both.",
				Subject:  c.declRange(in, "dockerfile_inline").Ptr(),
			})
		}
	} else if !d.HasErrors() {
		df := strAttr(obj, "dockerfile", "Dockerfile")
		var joined string
		if path.IsAbs(df) {
			joined = df
		} else {
			joined = path.Join(ctxRel, df)
		}
		dfPath, dfRel, d := c.localPath(joined, c.declRange(in, "dockerfile"), allowExternal, "dockerfile")
		diags = append(diags, d...)
		if !d.HasErrors() {
			r.build.Dockerfile = dfRel
			r.dockerfile = dfPath
			if st, err := c.stat(dfPath); !abstract && (err != nil || !st.Mode().IsRegular()) {
				what := ""
				if _, set := in.exprs["dockerfile"]; !set {
					what = " (the default)"
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Dockerfile not found",
					Detail:   fmt.Sprintf("target.%s uses the Dockerfile %q%s, which is not a file%s.", in.name, dfRel, what, statReason(err)),
					Subject:  c.declRange(in, "dockerfile").Ptr(),
				})
			}
		}
	}

	return diags
}

// stat is fs.Stat of a context or Dockerfile, once a compilation: many
// targets share a Dockerfile.
func (c *compilation) stat(name string) (fs.FileInfo, error) {
	type result struct {
		fi  fs.FileInfo
		err error
	}
	if r, ok := c.stats.Load(name); ok {
		return r.(result).fi, r.(result).err
	}
	if fi, ok := c.resolver.Info(name); ok {
		// Resolving the path just saw it, and it is no link.
		return fi, nil
	}
	fi, err := fs.Stat(c.opts.FS, name)
	c.stats.Store(name, result{fi, err})
	return fi, err
}

// resolvePlain reads the attributes taken as written, each checked: the
// stage, no_cache, network, args, labels and annotations (sensitive ones
// through fingerprints), caches, secrets and SSH.
func (c *compilation) resolvePlain(r *resolved) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var d hcl.Diagnostics
	in, obj := r.in, r.obj
	r.build.Stage = strAttr(obj, "target", "")
	r.build.NoCache = boolAttr(obj, "no_cache")
	if n := strAttr(obj, "network", ""); n != "" {
		if n != "default" && n != "none" && n != "host" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid network mode",
				Detail:   fmt.Sprintf("network is default, none or host, not %q.", n),
				Subject:  c.declRange(in, "network").Ptr(),
			})
		}
		r.build.Network = n
	}
	for _, kind := range []string{"args", "labels", "annotations"} {
		m, fps, vals := sensitiveMap(obj.GetAttr(kind), kind)
		switch kind {
		case "args":
			r.build.Args = m
		case "labels":
			r.build.Labels = m
		case "annotations":
			r.build.Annotations = m
		}
		diags = append(diags, c.publishedSensitive(in, kind, fps)...)
		for k, v := range fps {
			if r.build.SensitiveFingerprints == nil {
				r.build.SensitiveFingerprints = map[string]string{}
				r.build.SensitiveValues = map[string]string{}
			}
			r.build.SensitiveFingerprints[k] = v
			r.build.SensitiveValues[k] = vals[k]
		}
	}
	diags = append(diags, c.checkAnnotations(in, r.build.Annotations)...)
	r.build.CacheFrom, d = cacheList(obj.GetAttr("cache_from"), c.declRange(in, "cache_from"), "cache_from")
	diags = append(diags, d...)
	r.build.CacheTo, d = cacheList(obj.GetAttr("cache_to"), c.declRange(in, "cache_to"), "cache_to")
	diags = append(diags, d...)
	r.build.Secrets, d = secrets(obj.GetAttr("secret"), c.declRange(in, "secret"))
	diags = append(diags, d...)
	r.build.SSH, d = sshList(obj.GetAttr("ssh"), c.declRange(in, "ssh"))
	diags = append(diags, d...)

	return diags
}

// resolveExports reads where the result goes: tags, push, outputs and a
// frontend call instead of a build.
func (c *compilation) resolveExports(r *resolved) hcl.Diagnostics {
	var diags hcl.Diagnostics
	in, obj := r.in, r.obj
	tags, d := c.checkTags(strList(obj.GetAttr("tags")), in.exprs["tags"])
	diags = append(diags, d...)
	r.build.Tags = tags
	r.push = boolAttr(obj, "push")
	r.pushRange = c.declRange(in, "push")
	outs, d := c.outputs(r, obj.GetAttr("output"), c.declRange(in, "output"))
	diags = append(diags, d...)
	r.build.Outputs = outs
	if len(r.outputNames) > 0 {
		named, d := c.checkTags(r.outputNames, nil)
		for _, d := range d {
			d.Subject = r.outputNamesRange.Ptr()
		}
		diags = append(diags, d...)
		tags = mergeSorted(tags, named)
		r.build.Tags = tags
	}
	if r.push && len(tags) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Push without tags",
			Detail:   fmt.Sprintf("target.%s pushes, but has no tags to push to. Add tags = [\"registry.example.com/team/%s:TAG\"].", in.name, in.name),
			Subject:  r.pushRange.Ptr(),
		})
	}
	r.build.Push = r.push
	diags = append(diags, c.call(r, obj)...)
	if r.dockerOut != nil && len(r.platforms) > 1 && c.host.imageStore != storeContainerd {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Multi-platform image loaded into Docker without the containerd image store",
			Detail:   fmt.Sprintf("target.%s loads %d platforms (%s) into Docker, but only Docker's containerd image store holds multi-platform images. Declare host { docker { image_store = \"containerd\" } } so bakeplan checks and switches it, or load one platform.", in.name, len(r.platforms), strings.Join(r.platforms, ", ")),
			Subject:  r.dockerOut,
		})
	}
	return diags
}

// publishedSensitive warns about a sensitive value given as a build arg,
// label or annotation: the plan hides it, but the image does not. BuildKit
// records build args in the image's history (ARG TOKEN=…, RUN |1 TOKEN=…),
// labels in its config and annotations in its manifests, for anyone who
// pulls it.
func (c *compilation) publishedSensitive(in *instance, kind string, fps map[string]string) hcl.Diagnostics {
	if len(fps) == 0 {
		return nil
	}
	where := map[string]string{
		"args":        "in the image's history (ARG and RUN lines)",
		"labels":      "in the image's configuration",
		"annotations": "in the image's manifests",
	}[kind]
	var diags hcl.Diagnostics
	for _, k := range sortedKeys(fps) {
		name := strings.TrimPrefix(k, kind+".")
		detail := fmt.Sprintf("target.%s passes a sensitive value as %s. The plan shows only its fingerprint, but BuildKit publishes it %s, where anyone who pulls the image can read it.", in.name, k, where)
		if kind == "args" {
			detail += fmt.Sprintf(" Pass it as a build secret instead: secret = [{ id = %q, env = \"VARIABLE\" }] in the target, and RUN --mount=type=secret,id=%s,env=%s in the Dockerfile.", name, name, name)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Sensitive value published in the image",
			Detail:   detail,
			Subject:  c.declRange(in, kind).Ptr(),
		})
	}
	return diags
}

func statReason(err error) string {
	if err == nil {
		return ""
	}
	if pe, ok := err.(*fs.PathError); ok {
		return " (" + pe.Err.Error() + ")"
	}
	return " (" + err.Error() + ")"
}

// localPath resolves p (relative to the spec's directory unless absolute) to
// a path within the FS and a path relative to the spec's directory. Symbolic
// links are resolved first, so both name what a build will really read: a
// link to a directory outside the spec's directory is outside too, and needs
// allow_external_paths like any other such path.
func (c *compilation) localPath(p string, rng hcl.Range, allowExternal bool, what string) (fsPath, rel string, diags hcl.Diagnostics) {
	if path.IsAbs(p) {
		fsPath = strings.TrimPrefix(path.Clean(p), "/")
		if fsPath == "" {
			fsPath = "."
		}
	} else {
		fsPath = path.Join(c.opts.SpecDir, p)
	}
	if !fs.ValidPath(fsPath) {
		return "", "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Path cannot be read",
			Detail:   fmt.Sprintf("The %s %q resolves outside what bakeplan can read.", what, p),
			Subject:  rng.Ptr(),
		}}
	}
	lexical := fsPath
	real, err := c.resolver.Resolve(fsPath)
	if err != nil {
		return "", "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Path cannot be resolved",
			Detail:   fmt.Sprintf("The %s %q cannot be resolved: %s.", what, p, err),
			Subject:  rng.Ptr(),
		}}
	}
	fsPath = real
	r, err := filepath.Rel(filepath.FromSlash(c.specReal()), filepath.FromSlash(fsPath))
	if err != nil {
		return "", "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid path", Detail: err.Error(), Subject: rng.Ptr()}}
	}
	rel = filepath.ToSlash(r)
	if (rel == ".." || strings.HasPrefix(rel, "../")) && !allowExternal {
		detail := fmt.Sprintf("The %s %q is outside the directory that holds the spec, so the plan would depend on files a review of this repository does not see. Set allow_external_paths = true in the target if that is intended.", what, p)
		if real != lexical {
			detail = fmt.Sprintf("The %s %q is a symbolic link (or lies under one) that resolves to /%s, outside the directory that holds the spec: a build would read files a review of this repository does not see. Point it inside the spec's directory, or set allow_external_paths = true in the target if that is intended.", what, p, real)
		}
		return "", "", hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Path outside the spec's directory",
			Detail:   detail,
			Subject:  rng.Ptr(),
		}}
	}
	return fsPath, rel, nil
}

// targetRefPrefix stands before a target's name where it stands for the
// target itself in a contexts expression.
const targetRefPrefix = "\x00target:"

// targetRefCtx is ctx with target.NAME, for each target expr names, bound
// to NAME behind targetRefPrefix.
func targetRefCtx(ctx *hcl.EvalContext, expr hcl.Expression) *hcl.EvalContext {
	refs := map[string]cty.Value{}
	for _, trav := range expr.Variables() {
		if trav.RootName() != "target" {
			continue
		}
		if n, _ := attrName(trav); n != "" {
			refs[n] = cty.StringVal(targetRefPrefix + n)
		}
	}
	if len(refs) == 0 {
		return ctx
	}
	return withVariable(ctx, "target", cty.ObjectVal(refs))
}

// specReal is the spec's directory with its symbolic links resolved, which
// every resolved path is made relative to; the resolver remembers it.
func (c *compilation) specReal() string {
	if r, err := c.resolver.Resolve(c.opts.SpecDir); err == nil {
		return r
	}
	return c.opts.SpecDir
}

// namedContext turns a contexts entry that is not a target into a path or an
// image reference.
//
// An expression may choose a target (var.X ? target.ld64 : "docker-image://
// scratch"): each target.NAME in it evaluates to its name behind a prefix
// no spec writes by accident, and such a result names that target
// (NamedContext.Target). A mark would not do: HCL's conditional carries the
// marks of both branches into its result.
func (c *compilation) namedContext(name string, expr hcl.Expression, ctx *hcl.EvalContext, allowExternal bool) (*plan.NamedContext, hcl.Diagnostics) {
	v, diags := expr.Value(targetRefCtx(ctx, expr))
	if diags.HasErrors() {
		return nil, diags
	}
	if !v.IsMarked() && v.Type() == cty.String && !v.IsNull() && v.IsKnown() {
		if t, ok := strings.CutPrefix(v.AsString(), targetRefPrefix); ok {
			return &plan.NamedContext{Name: name, Target: t}, nil
		}
	}
	if v.ContainsMarked() || v.IsNull() || v.Type() != cty.String {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid named context",
			Detail:   fmt.Sprintf("The context %q must be target.NAME, a directory, or docker-image://REF.", name),
			Subject:  expr.Range().Ptr(),
		}}
	}
	s := v.AsString()
	if ref, ok := strings.CutPrefix(s, "docker-image://"); ok {
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return nil, hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Invalid image reference",
				Detail:   fmt.Sprintf("The context %q names the image %q: %s.", name, ref, err),
				Subject:  expr.Range().Ptr(),
			}}
		}
		return &plan.NamedContext{Name: name, Image: ref}, nil
	}
	if t, ok := strings.CutPrefix(s, "target:"); ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid named context",
			Detail:   fmt.Sprintf("The context %q is bake's \"target:%s\" string; bakeplan refers to targets as references, so the compiler can check them. Did you mean target.%s?", name, t, t),
			Subject:  expr.Range().Ptr(),
		}}
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Unsupported named context",
			Detail:   fmt.Sprintf("The context %q uses %s://; bakeplan takes target.NAME, a local directory, or docker-image://REF, so that every input has a digest in the plan.", name, scheme),
			Subject:  expr.Range().Ptr(),
		}}
	}
	fsPath, rel, d := c.localPath(s, expr.Range(), allowExternal, "context "+name)
	if d.HasErrors() {
		return nil, d
	}
	if st, err := fs.Stat(c.opts.FS, fsPath); err != nil || !st.IsDir() {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Context directory not found",
			Detail:   fmt.Sprintf("The context %q points at %q, which is not a directory%s.", name, rel, statReason(err)),
			Subject:  expr.Range().Ptr(),
		}}
	}
	return &plan.NamedContext{Name: name, Path: rel}, nil
}

// checkPlatforms parses each platform with containerd's parser and returns
// them normalised (linux/arm64/v8 is linux/arm64), sorted, without repeats.
func (c *compilation) checkPlatforms(list []string, expr hcl.Expression) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	var out []string
	for i, s := range list {
		if s == "" {
			continue // as bake drops them
		}
		if s == "local" {
			s = c.native // bake's name for the machine's own platform
		}
		n, err := c.parsePlatform(s)
		if err != nil {
			rng := hcl.Range{}
			if expr != nil {
				rng = elementRange(expr, i)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid platform",
				Detail:   fmt.Sprintf("%q is not a platform: %s. Write os/arch[/variant], like linux/amd64 or linux/arm/v7.", s, err),
				Subject:  rng.Ptr(),
			})
			continue
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, diags
}

type parsedPlatform struct {
	normal string
	spec   platforms.Platform // normalised
	err    error
}

// parsePlatform parses, checks and normalises one platform, remembering the
// answer: a large spec names the same few platforms thousands of times.
func (c *compilation) parsePlatform(s string) (string, error) {
	c.platformMu.Lock()
	r, ok := c.platformCache[s]
	c.platformMu.Unlock()
	if ok {
		return r.normal, r.err
	}
	p, err := platforms.Parse(s)
	if err == nil {
		err = knownPlatform(p)
	}
	var n string
	if err == nil {
		p = platforms.Normalize(p)
		n = platforms.Format(p)
	}
	c.platformMu.Lock()
	c.platformCache[s] = parsedPlatform{n, p, err}
	c.platformMu.Unlock()
	return n, err
}

// platform is the parsed form of a platform the compilation has already
// checked and normalised (parsePlatform's answer).
func (c *compilation) platform(s string) platforms.Platform {
	c.platformMu.Lock()
	r, ok := c.platformCache[s]
	c.platformMu.Unlock()
	if ok && r.err == nil {
		return r.spec
	}
	p := platforms.Normalize(platforms.MustParse(s))
	c.platformMu.Lock()
	c.platformCache[s] = parsedPlatform{platforms.Format(p), p, nil}
	c.platformMu.Unlock()
	return p
}

// containerd's parser accepts any os and architecture name; a typo such as
// linux/amd46 would otherwise reach BuildKit and fail there.
// knownOS and knownArch are the operating systems and architectures Go and
// containerd name (GOOS and GOARCH): a platform outside them is a typo.
// Knowing a platform is not being able to build it: only Linux platforms
// can be emulated (assign).
var knownOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}

var knownArch = []string{"386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64", "ppc64le", "riscv64", "s390x", "sparc64", "wasm"}

func knownPlatform(p platforms.Platform) error {
	osOK := false
	for _, o := range knownOS {
		osOK = osOK || p.OS == o
	}
	if !osOK {
		msg := fmt.Sprintf("unknown operating system %q", p.OS)
		if s := suggest(p.OS, knownOS); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fmt.Errorf("%s", msg)
	}
	if !slices.Contains(knownArch, p.Architecture) {
		msg := fmt.Sprintf("unknown architecture %q", p.Architecture)
		if s := suggest(p.Architecture, knownArch); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return fmt.Errorf("%s", msg)
	}
	return nil
}

// checkTags checks each tag with distribution's reference grammar and returns
// them fully qualified (docker.io/library/app:latest for app), sorted. An
// empty string is no tag, as in bake, so a conditional tag can be written
// cond ? "app:latest" : "".
func (c *compilation) checkTags(tags []string, expr hcl.Expression) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	var out []string
	for i, t := range tags {
		if t == "" {
			continue // bake drops empty tags: cond ? "app:latest" : ""
		}
		named, err := reference.ParseNormalizedNamed(t)
		if err == nil {
			if _, digested := named.(reference.Digested); digested {
				err = fmt.Errorf("a tag cannot name a digest")
			}
		}
		if err != nil {
			// Where the tag is written is looked up only now: for a large
			// spec's thousands of valid tags it was a tenth of checking them.
			rng := hcl.Range{}
			if expr != nil {
				rng = elementRange(expr, i)
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid tag",
				Detail:   fmt.Sprintf("%q is not a valid image reference: %s.", t, err),
				Subject:  rng.Ptr(),
			})
			continue
		}
		full := reference.TagNameOnly(named).String()
		if !seen[full] {
			seen[full] = true
			out = append(out, full)
		}
	}
	sort.Strings(out)
	return out, diags
}

func (c *compilation) checkAnnotations(in *instance, ann map[string]string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for k := range ann {
		if typ, key, ok := strings.Cut(k, ":"); ok {
			switch typ {
			case "index", "manifest", "manifest-descriptor", "index-descriptor":
				if key != "" {
					continue
				}
			}
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid annotation key",
				Detail:   fmt.Sprintf("%q: a prefix before ':' is one of index, manifest, manifest-descriptor, index-descriptor.", k),
				Subject:  c.declRange(in, "annotations").Ptr(),
			})
		}
	}
	return diags
}

func (c *compilation) outputs(r *resolved, v cty.Value, rng hcl.Range) ([]*plan.Output, hcl.Diagnostics) {
	if v.IsNull() {
		return nil, nil
	}
	var diags hcl.Diagnostics
	var out []*plan.Output
	for it := v.ElementIterator(); it.Next(); {
		_, o := it.Element()
		if o.IsNull() {
			continue
		}
		one, d := c.output(r, o, rng)
		diags = append(diags, d...)
		if one != nil {
			out = append(out, one)
		}
	}
	return out, diags
}

// outputTypes are the output types a target may name.
var outputTypes = []string{"registry", "oci", "local", "docker", "cacheonly"}

// output reads one output: bake's type=image,push=true is the registry
// push; names join the tags; each type's attributes and dest are checked.
// A registry output with no further attributes is the push alone (nil).
func (c *compilation) output(r *resolved, o cty.Value, rng hcl.Range) (*plan.Output, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	types := outputTypes
	m := stringAttrs(o)
	typ, dest := m["type"], m["dest"]
	delete(m, "type")
	delete(m, "dest")
	if typ == "image" {
		// bake's type=image,push=true is the registry push; without
		// push the image would stay inside BuildKit, where nothing
		// reads it.
		if push, _ := parseBool(m["push"]); !push {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Output without a destination", Detail: "type=image without push=true keeps the image inside BuildKit, where nothing reads it; push it (push = true, or type=registry), load it (type=docker), or write it (type=oci).", Subject: rng.Ptr()})
			return nil, diags
		}
		typ = "registry"
		delete(m, "push")
	}
	if n, ok := m["name"]; ok && (typ == "registry" || typ == "docker") {
		// bake names the image in the output ("type=docker,name=app");
		// bakeplan's names are tags: these join them.
		for _, name := range strings.Split(n, ",") {
			if name = strings.TrimSpace(name); name != "" {
				r.outputNames = append(r.outputNames, name)
			}
		}
		r.outputNamesRange = rng
		delete(m, "name")
	}
	known, ok := exporterAttrs[typ]
	if !ok {
		detail := fmt.Sprintf("%q is not an output type; use one of %s.", typ, strings.Join(types, ", "))
		if s := suggest(typ, types); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown output type", Detail: detail, Subject: rng.Ptr()})
		return nil, diags
	}
	if d := checkExporterAttrs(typ, m, known, rng); d.HasErrors() {
		diags = append(diags, d...)
		return nil, diags
	}
	if len(m) == 0 {
		m = nil
	}
	switch typ {
	case "registry":
		r.push = true
		r.pushRange = rng
		if dest != "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid output", Detail: "A registry output pushes to the target's tags and takes no dest.", Subject: rng.Ptr()})
			return nil, diags
		}
		if m == nil {
			return nil, diags
		}
		return &plan.Output{Type: typ, Attrs: m}, diags
	case "cacheonly":
		if dest != "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid output", Detail: "A cacheonly output exports nothing and takes no dest.", Subject: rng.Ptr()})
			return nil, diags
		}
	case "oci", "local":
		if dest == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Output without dest", Detail: fmt.Sprintf("%s %s output needs dest, the path to write.", article(typ), typ), Subject: rng.Ptr()})
			return nil, diags
		}
	case "docker":
		if dest != "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid output", Detail: "A docker output loads the image into Docker and takes no dest.", Subject: rng.Ptr()})
			return nil, diags
		}
		r.dockerOut = rng.Ptr()
	}
	return &plan.Output{Type: typ, Dest: dest, Attrs: m}, diags
}

// exporterAttrs are the attributes BuildKit's exporters take for each output
// type, besides type and dest. bakeplan sets the image names, push and
// annotations itself (from tags, push and annotations), so those are not
// among them.
var exporterAttrs = func() map[string][]string {
	image := []string{"compression", "compression-level", "force-compression", "oci-mediatypes", "oci-artifact", "rewrite-timestamp", "store", "unpack", "dangling-name-prefix", "name-canonical", "buildinfo", "buildinfo-attrs"}
	return map[string][]string{
		"registry": image,
		"docker":   image,
		"oci":      append(slices.Clone(image), "tar"),
		"local":    {"platform-split"},
		// cacheonly builds, for the cache, and exports nothing.
		"cacheonly": {},
	}
}()

// setByBakeplan are exporter attributes that come from other attributes.
var setByBakeplan = map[string]string{
	"name":           "tags",
	"push":           "push",
	"push-by-digest": "push",
	"annotation":     "annotations",
}

func checkExporterAttrs(typ string, m map[string]string, known []string, rng hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, k := range sortedKeys(m) {
		if slices.Contains(known, k) {
			continue
		}
		base, _, _ := strings.Cut(k, ".")
		base, _, _ = strings.Cut(base, "-index")
		if from, ok := setByBakeplan[base]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Output attribute set elsewhere", Detail: fmt.Sprintf("%q in a %s output comes from the target's %s attribute; set it there.", k, typ, from), Subject: rng.Ptr()})
			continue
		}
		detail := fmt.Sprintf("A %s output has no attribute %q; it takes type, dest and %s.", typ, k, strings.Join(known, ", "))
		if s := suggest(k, known); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown output attribute", Detail: detail, Subject: rng.Ptr()})
	}
	return diags
}

func cacheList(v cty.Value, rng hcl.Range, what string) ([]map[string]string, hcl.Diagnostics) {
	if v.IsNull() {
		return nil, nil
	}
	var out []map[string]string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			continue
		}
		m := stringAttrs(e)
		if m["type"] == "" {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cache entry without type", Detail: fmt.Sprintf("Each %s entry needs a type, like { type = \"registry\", ref = \"...\" }.", what), Subject: rng.Ptr()}}
		}
		out = append(out, m)
	}
	return out, nil
}

func secrets(v cty.Value, rng hcl.Range) ([]*plan.Secret, hcl.Diagnostics) {
	if v.IsNull() {
		return nil, nil
	}
	var diags hcl.Diagnostics
	var out []*plan.Secret
	seen := map[string]bool{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			continue
		}
		s := &plan.Secret{ID: optString(e.GetAttr("id")), Env: optString(e.GetAttr("env")), File: optString(e.GetAttr("file"))}
		switch {
		case s.ID == "":
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Secret without id", Detail: "Each secret needs the id its RUN --mount=type=secret names.", Subject: rng.Ptr()})
		case (s.Env == "") == (s.File == ""):
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid secret", Detail: fmt.Sprintf("The secret %q needs exactly one of env (an environment variable) or file (a path); the value itself never goes into a spec.", s.ID), Subject: rng.Ptr()})
		case seen[s.ID]:
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate secret", Detail: fmt.Sprintf("The secret %q is given twice.", s.ID), Subject: rng.Ptr()})
		default:
			seen[s.ID] = true
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, diags
}

func sshList(v cty.Value, rng hcl.Range) ([]*plan.SSH, hcl.Diagnostics) {
	if v.IsNull() {
		return nil, nil
	}
	var out []*plan.SSH
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			continue
		}
		s := &plan.SSH{ID: optString(e.GetAttr("id")), Paths: strList(e.GetAttr("paths"))}
		if s.ID == "" {
			return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "SSH entry without id", Detail: "Each ssh entry needs an id, like { id = \"default\" }.", Subject: rng.Ptr()}}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// sensitiveMap reads a map(string) whose values may carry the sensitive
// mark, replacing those with plan.Redacted and a fingerprint.
func sensitiveMap(v cty.Value, kind string) (out, fps, vals map[string]string) {
	if v.IsNull() {
		return nil, nil, nil
	}
	v, _ = v.Unmark()
	out = map[string]string{}
	for k, e := range v.AsValueMap() {
		raw, marks := e.Unmark()
		if raw.IsNull() {
			continue
		}
		if _, sensitive := marks[markSensitive]; sensitive {
			out[k] = plan.Redacted
			if fps == nil {
				fps, vals = map[string]string{}, map[string]string{}
			}
			fps[kind+"."+k] = fingerprint(kind+"."+k, raw.AsString())
			vals[kind+"."+k] = raw.AsString()
			continue
		}
		out[k] = raw.AsString()
	}
	return out, fps, vals
}

func strAttr(obj attrValues, name, def string) string {
	if v := obj.GetAttr(name); !v.IsNull() {
		return v.AsString()
	}
	return def
}

func boolAttr(obj attrValues, name string) bool {
	v := obj.GetAttr(name)
	return !v.IsNull() && v.True()
}

func optString(v cty.Value) string {
	if v.IsNull() {
		return ""
	}
	return v.AsString()
}

func strList(v cty.Value) []string {
	if v.IsNull() {
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() {
			out = append(out, e.AsString())
		}
	}
	return out
}

// article is "An" before a vowel, else "A".
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "An"
	}
	return "A"
}

// mergeSorted is the sorted union of two sorted lists.
func mergeSorted(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// callNames are the frontend subrequests a target may run instead of its
// build, as bake's call names them.
var callNames = []string{"build", "check", "outline", "targets"}

// call reads the target's call: a subrequest builds nothing, so the
// target's outputs, push and cache exports are dropped (bake ignores them
// too).
func (c *compilation) call(r *resolved, obj attrValues) hcl.Diagnostics {
	call := strAttr(obj, "call", "build")
	if !slices.Contains(callNames, call) {
		detail := fmt.Sprintf("call is one of %s, not %q.", strings.Join(callNames, ", "), call)
		if s := suggest(call, callNames); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown call", Detail: detail, Subject: c.declRange(r.in, "call").Ptr()}}
	}
	if call == "build" {
		return nil
	}
	r.build.Call = call
	r.build.Outputs, r.build.CacheTo = nil, nil
	r.push, r.build.Push, r.dockerOut = false, false, nil
	return nil
}

// stringAttrs is an object or map of strings (an output, a cache entry, an
// attestation) as a Go map, its null attributes left out.
func stringAttrs(v cty.Value) map[string]string {
	m := map[string]string{}
	for k, x := range v.AsValueMap() {
		if !x.IsNull() {
			m[k] = x.AsString()
		}
	}
	return m
}

// inheritedContext is a named context a target has, declared by it or by
// a parent, with the scope its expression is evaluated in (the declaring
// target's: its matrix values).
type inheritedContext struct {
	nc  *spec.NamedContext
	ctx *hcl.EvalContext
}

// contextsOf is in's named contexts as bake merges them through inherits:
// key by key, later parents over earlier ones, the target's own over all,
// in the order first declared.
func contextsOf(in *instance) []inheritedContext {
	var out []inheritedContext
	at := map[string]int{}
	var collect func(x *instance, depth int)
	collect = func(x *instance, depth int) {
		if depth > 64 {
			return // a cycle, reported elsewhere
		}
		for _, p := range x.parents {
			collect(p, depth+1)
		}
		for _, nc := range x.decl.Contexts {
			ic := inheritedContext{nc: nc, ctx: x.ctx}
			if i, ok := at[nc.Name]; ok {
				out[i] = ic
				continue
			}
			at[nc.Name] = len(out)
			out = append(out, ic)
		}
	}
	collect(in, 0)
	return out
}
