package compiler

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bakeplan/bakeplan/internal/environ"
	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Repo is the git repository that holds the spec, for a "git" epoch.
type Repo interface {
	// Head returns the commit HEAD names and its commit time.
	Head(ctx context.Context) (commit string, at time.Time, err error)
	// Dirty says whether the working tree differs from HEAD.
	Dirty(ctx context.Context) (bool, error)
}

// releaseDecl is the evaluated release block.
type releaseDecl struct {
	epoch     int64
	source    string // where the epoch came from, for the plan
	declRange hcl.Range
}

// evalRelease reads the release block and works out SOURCE_DATE_EPOCH:
// the environment's, else the block's number, or the commit time of HEAD
// for "git" (refused outside git, and with uncommitted changes unless
// allow_dirty). The block takes literals only: it is read before
// variables, so that timestamp() anywhere in the spec gives the epoch.
func (c *compilation) evalRelease() hcl.Diagnostics {
	rb := c.spec.Release
	if rb == nil {
		return nil
	}
	bad := func(rng hcl.Range, summary, format string, args ...any) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()}}
	}
	allowDirty := false
	if rb.AllowDirty != nil {
		v, d := rb.AllowDirty.Value(nil)
		if d.HasErrors() || v.Type() != cty.Bool || v.IsNull() {
			return bad(rb.AllowDirty.Range(), "Invalid allow_dirty", "allow_dirty is true or false, written as a literal.")
		}
		allowDirty = v.True()
	}
	rel := &releaseDecl{declRange: rb.DeclRange}
	if v, ok := environ.Lookup(c.opts.Environ, "SOURCE_DATE_EPOCH"); ok {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil || sec < 0 {
			return bad(rb.DeclRange, "Invalid SOURCE_DATE_EPOCH", "SOURCE_DATE_EPOCH in the environment is %q; it must be a whole number of seconds since 1970.", v)
		}
		rel.epoch, rel.source = sec, "SOURCE_DATE_EPOCH in the environment"
		c.release = rel
		return nil
	}
	e := rb.SourceDateEpoch
	if e == nil {
		return bad(rb.DeclRange, "Release without an epoch", `The release block needs source_date_epoch = "git" (the commit time of HEAD) or a number of seconds since 1970, or SOURCE_DATE_EPOCH in the environment: without one, image and file times would be the build's.`)
	}
	v, d := e.Value(nil)
	if d.HasErrors() || v.IsNull() || !v.IsWhollyKnown() {
		return bad(e.Range(), "Invalid source_date_epoch", `source_date_epoch is "git" or a number, written as a literal (it is read before variables); to pass another value, set SOURCE_DATE_EPOCH in the environment.`)
	}
	switch v.Type() {
	case cty.Number:
		bf := v.AsBigFloat()
		sec, acc := bf.Int64()
		if acc != big.Exact || sec < 0 {
			return bad(e.Range(), "Invalid source_date_epoch", "source_date_epoch must be a whole number of seconds since 1970, not %s.", bf.Text('f', -1))
		}
		rel.epoch, rel.source = sec, "source_date_epoch in the spec"
	case cty.String:
		if v.AsString() != "git" {
			return bad(e.Range(), "Invalid source_date_epoch", `source_date_epoch is "git" or a number, not %q.`, v.AsString())
		}
		if c.opts.Locking {
			// lock pins images; the epoch is no business of its, and a
			// working tree about to change is no reason to stop it.
			rel.source = "not read by bakeplan lock"
			break
		}
		if c.opts.Repo == nil {
			return bad(e.Range(), "No git repository", `source_date_epoch = "git" takes the commit time of HEAD, but the spec is not in a git repository. Commit the project to git, or give a number.`)
		}
		commit, at, err := c.opts.Repo.Head(c.ctx)
		if err != nil {
			return bad(e.Range(), "Cannot read HEAD", `source_date_epoch = "git": %v.`, err)
		}
		dirty, err := c.opts.Repo.Dirty(c.ctx)
		if err != nil {
			return bad(e.Range(), "Cannot read the working tree", `source_date_epoch = "git": %v.`, err)
		}
		if dirty && !allowDirty {
			return bad(e.Range(), "Uncommitted changes", `source_date_epoch = "git" takes the commit time of HEAD (%s), but the working tree has uncommitted changes, so the release would not be the commit's. Commit them, or set allow_dirty = true in the release block.`, short(commit))
		}
		rel.epoch = at.Unix()
		rel.source = fmt.Sprintf("commit time of git HEAD %s", short(commit))
		if dirty {
			rel.source += " (working tree has uncommitted changes)"
		}
	default:
		return bad(e.Range(), "Invalid source_date_epoch", `source_date_epoch is "git" or a number.`)
	}
	c.release = rel
	return nil
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// planRelease is the plan's record of the release epoch.
func (c *compilation) planRelease() *plan.Release {
	if c.release == nil {
		return nil
	}
	return &plan.Release{SourceDateEpoch: c.release.epoch, Source: c.release.source}
}

// attestTypes are the attestations BuildKit makes, with the parameters
// bakeplan checks; others are passed on.
var attestTypes = map[string]map[string][]string{
	"sbom":       {"generator": nil},
	"provenance": {"mode": {"min", "max"}},
}

// resolveRelease reads a target's release flag and attestations.
func (c *compilation) resolveRelease(r *resolved) hcl.Diagnostics {
	var diags hcl.Diagnostics
	in := r.in
	r.build.Release = c.release != nil
	if v := r.obj.GetAttr("release"); !v.IsNull() {
		r.build.Release = v.True()
		if v.True() && c.release == nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Release without a release block",
				Detail:   fmt.Sprintf(`target.%s sets release = true, but the spec has no release block to say its SOURCE_DATE_EPOCH; add release { source_date_epoch = "git" }.`, in.name),
				Subject:  c.declRange(in, "release").Ptr(),
			})
		}
	}
	v := r.obj.GetAttr("attest")
	if v.IsNull() {
		return diags
	}
	rng := c.declRange(in, "attest")
	seen := map[string]bool{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			continue
		}
		m := stringAttrs(e)
		typ := m["type"]
		params, ok := attestTypes[typ]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown attestation", Detail: fmt.Sprintf(`An attestation's type is "sbom" or "provenance", not %q.`, typ), Subject: rng.Ptr()})
			continue
		}
		if seen[typ] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate attestation", Detail: fmt.Sprintf("target.%s asks for the %s attestation twice.", in.name, typ), Subject: rng.Ptr()})
			continue
		}
		seen[typ] = true
		for k, allowed := range params {
			if val, set := m[k]; set && allowed != nil && !slices.Contains(allowed, val) {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid attestation", Detail: fmt.Sprintf("The %s attestation's %s is %s, not %q.", typ, k, strings.Join(allowed, " or "), val), Subject: rng.Ptr()})
			}
		}
		r.build.Attest = append(r.build.Attest, m)
	}
	return diags
}

// unpinnedInRelease refuses, in release builds, every image that is not
// pinned (by the lock file or its own digest): a rebuild could pull other
// bytes. One error per place an image is named, however many targets
// build from it.
func (c *compilation) unpinnedInRelease(rs []*resolved, builds [][]*plan.Build, origins [][]map[*plan.Image]hcl.Range) hcl.Diagnostics {
	type finding struct {
		img     *plan.Image
		rng     hcl.Range
		targets []string
	}
	var order []*finding
	byKey := map[string]*finding{}
	for i, r := range rs {
		for j, b := range builds[i] {
			if !b.Release {
				continue
			}
			for _, img := range b.Images {
				if img.Digest != "" {
					continue
				}
				rng := origins[i][j][img]
				key := rng.String() + " " + img.Ref
				f := byKey[key]
				if f == nil {
					f = &finding{img: img, rng: rng}
					byKey[key] = f
					order = append(order, f)
				}
				if !slices.Contains(f.targets, r.in.name) {
					f.targets = append(f.targets, r.in.name)
				}
			}
		}
	}
	// In the order a reader meets them: by file, then line.
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i].rng, order[j].rng
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		return a.Start.Line < b.Start.Line
	})
	var diags hcl.Diagnostics
	for _, f := range order {
		what := "image " + f.img.Familiar()
		if f.img.Syntax {
			what = "frontend " + f.img.Familiar() + " (# syntax=)"
		}
		who := targetList(f.targets) + " is a release build"
		if len(f.targets) > 1 {
			who = targetList(f.targets) + " are release builds"
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unpinned image in a release",
			Detail:   fmt.Sprintf("%s, but the %s is not pinned, so a rebuild could pull other bytes. Run bakeplan lock to pin it in %s (or give the reference a digest), or set release = false on the target.", who, what, lockfile.Name),
			Subject:  f.rng.Ptr(),
		})
	}
	return diags
}
