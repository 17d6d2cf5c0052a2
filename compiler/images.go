package compiler

import (
	"fmt"
	"path"

	"maps"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/internal/lines"

	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
)

// buildPlatform is BUILDPLATFORM on node: the platform it runs RUN steps
// on natively.
func (c *compilation) buildPlatform(node *builderDecl) platforms.Platform {
	if len(node.platforms) == 0 || node.local && slices.Contains(node.platforms, c.native) {
		return c.nativePlatform
	}
	return c.platform(node.platforms[0])
}

// imagesOf works out the images a build step pulls and what each is
// pinned to: what its Dockerfile pulls for each platform of runs (a stage
// FROM --platform=$BUILDPLATFORM pulls the builder's platform), its
// docker-image:// contexts and its # syntax= frontend.
//
// origins says where each image is named (a Dockerfile line, or the spec's
// contexts entry), for diagnostics.
func (c *compilation) imagesOf(r *resolved, node *builderDecl, runs []plan.PlatformRun) (images []*plan.Image, origins map[*plan.Image]hcl.Range) {
	byRef := map[string]*plan.Image{}
	origins = map[*plan.Image]hcl.Range{}
	add := func(ref, platform string, syntax bool, origin func() hcl.Range) {
		norm, pinned, ok := c.normalize(ref)
		if !ok {
			return // the Dockerfile checks report it
		}
		key := norm
		if syntax {
			key = "syntax " + norm
		}
		img := byRef[key]
		if img == nil {
			img = &plan.Image{Ref: norm, Syntax: syntax}
			if pinned {
				img.Digest = norm[strings.LastIndex(norm, "@")+1:]
			}
			byRef[key] = img
			origins[img] = origin()
		}
		if !slices.Contains(img.Platforms, platform) {
			img.Platforms = append(img.Platforms, platform)
		}
	}
	buildPlat := c.buildPlatform(node)
	for _, run := range runs {
		if r.df == nil {
			break
		}
		res, err := r.df.Analyze(r.dockerfileBuild(c.platform(run.Platform), buildPlat))
		if err != nil {
			break // reported by checkDockerfile
		}
		for _, im := range res.Images {
			add(im.Ref, im.Platform, false, func() hcl.Range { return c.dockerfileLine(r, im.Line) })
		}
	}
	if r.df != nil && r.df.Syntax != "" {
		add(r.df.Syntax, platforms.Format(buildPlat), true, func() hcl.Range { return c.dockerfileLine(r, r.df.SyntaxLine) })
	}
	if fe := r.customFrontend(); fe != "" {
		// The frontend image is pulled like any other: resolved online,
		// pinned by the lock.
		add(fe, platforms.Format(buildPlat), true, func() hcl.Range { return c.dockerfileRange(r) })
	}
	for _, nc := range r.build.Contexts {
		if nc.Image == "" {
			continue
		}
		origin := func() hcl.Range {
			for _, ic := range contextsOf(r.in) {
				if ic.nc.Name == nc.Name {
					return ic.nc.DeclRange
				}
			}
			return c.declRange(r.in, "contexts")
		}
		for _, run := range runs {
			add(nc.Image, run.Platform, false, origin)
		}
	}
	out := make([]*plan.Image, 0, len(byRef))
	for _, k := range slices.Sorted(maps.Keys(byRef)) {
		img := byRef[k]
		slices.Sort(img.Platforms)
		if pin := c.pin(img.Ref); pin != nil && img.Digest == "" {
			img.Digest, img.Locked = pin.Digest, true
		}
		out = append(out, img)
	}
	return out, origins
}

// remotesOf lists the ADD sources BuildKit fetches for a build step, over
// all its platforms, once each.
func (c *compilation) remotesOf(r *resolved, node *builderDecl, runs []plan.PlatformRun) []*plan.Remote {
	if r.df == nil {
		return nil
	}
	var out []*plan.Remote
	seen := map[string]bool{}
	buildPlat := c.buildPlatform(node)
	for _, run := range runs {
		res, err := r.df.Analyze(r.dockerfileBuild(c.platform(run.Platform), buildPlat))
		if err != nil {
			break // reported by checkDockerfile
		}
		for _, rm := range res.Remote {
			at := fmt.Sprintf("%s:%d", r.build.Dockerfile, rm.Line)
			if r.build.Dockerfile == "" {
				at = fmt.Sprintf("dockerfile_inline:%d", rm.Line)
			}
			if seen[at+" "+rm.Source] {
				continue
			}
			seen[at+" "+rm.Source] = true
			out = append(out, &plan.Remote{Source: rm.Source, At: at, Pinned: rm.Pinned})
		}
	}
	return out
}

// dockerfileLine is a line of r's Dockerfile as a diagnostic's subject:
// the file's own line, or the dockerfile_inline attribute.
func (c *compilation) dockerfileLine(r *resolved, line int) hcl.Range {
	if r.dockerfile == "" || r.df == nil || line <= 0 {
		return c.dockerfileRange(r)
	}
	name := r.build.Dockerfile
	if c.opts.SpecPath != "" {
		name = path.Join(path.Dir(c.opts.SpecPath), r.build.Dockerfile)
	}
	start, end := lines.Span(r.df.Data, line)
	return hcl.Range{Filename: name, Start: hcl.Pos{Line: line, Column: 1, Byte: start}, End: hcl.Pos{Line: line, Column: 1 + end - start, Byte: end}}
}

// pin is the lock's pin of a normalized reference, or nil.
func (c *compilation) pin(ref string) *lockfile.Image {
	if c.opts.Lock == nil {
		return nil
	}
	return c.opts.Lock.Images[ref]
}

type normalRef struct {
	norm   string
	pinned bool
	ok     bool
}

// normalize is lockfile.Normalize, remembered: thousands of builds name the
// same few images, and parsing a reference is a regular expression.
func (c *compilation) normalize(ref string) (string, bool, bool) {
	c.refMu.Lock()
	defer c.refMu.Unlock()
	r, seen := c.refCache[ref]
	if !seen {
		norm, pinned, err := lockfile.Normalize(ref)
		r = normalRef{norm, pinned, err == nil}
		if c.refCache == nil {
			c.refCache = map[string]normalRef{}
		}
		c.refCache[ref] = r
	}
	return r.norm, r.pinned, r.ok
}

// lockGaps warns, once per image and platform, about a pin the lock file
// holds without a manifest for a platform a build pulls: the build still
// pulls the locked index, but the lock was not checked to hold that
// platform, so bakeplan lock should add it.
func (c *compilation) lockGaps(steps []*plan.Step) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for _, st := range steps {
		if st.Build == nil {
			continue
		}
		for _, img := range st.Build.Images {
			if !img.Locked {
				continue
			}
			pin := c.pin(img.Ref)
			if len(pin.Platforms) == 0 {
				continue // a single manifest serves whatever it serves
			}
			for _, p := range img.Platforms {
				if _, ok := pin.Platforms[p]; ok || seen[img.Ref+" "+p] {
					continue
				}
				seen[img.Ref+" "+p] = true
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagWarning,
					Summary:  "Lock file lacks a platform",
					Detail:   fmt.Sprintf("%s pulls %s for %s, which the lock's pin of it does not list; run bakeplan lock to check that the pinned index holds %s and record it.", st.ID, img.Familiar(), p, p),
					Subject:  pin.DeclRange.Ptr(),
				})
			}
		}
	}
	return diags
}
