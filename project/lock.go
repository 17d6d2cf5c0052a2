package project

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/pins"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/hashicorp/hcl/v2"
)

// UpdateLock asks the registries for what c's builds pull and returns the
// lock file they need, with what changed against the one c was compiled
// with. c must have been compiled with Inputs.All: the lock covers every
// build of the spec.
func UpdateLock(ctx context.Context, c *Compiled, opts pins.UpdateOptions) (*lockfile.Lock, []pins.Change, error) {
	r := pins.New(registry.FromPlan(c.Plan))
	return pins.Update(ctx, r, c.Lock, pins.Wanted(c.Plan), opts)
}

// CheckPins compares each image the lock file pins with its registry, and
// records in c's plan what each tag points at now. A plan without a lock
// file asks nothing.
func CheckPins(ctx context.Context, c *Compiled) error {
	if c.Plan == nil || c.Plan.Lock == nil {
		return nil
	}
	r := pins.New(registry.FromPlan(c.Plan))
	bad, err := pins.Verify(ctx, r, c.Lock)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		var lines []string
		for _, m := range bad {
			lines = append(lines, m.Error())
		}
		return fmt.Errorf("the lock file does not match the images it pins; nothing was planned. Run bakeplan lock to put it right:\n  %s", strings.Join(lines, "\n  "))
	}
	return pins.Check(ctx, c.Plan, r)
}

// ResolveImages asks the registries what each image c's builds pull and
// nothing pins points at now, so that the input digests cover it and
// apply pulls exactly that. An image that cannot be resolved is an error
// at each line that names it, unless buildAnyway: then its builds are
// never up to date.
func ResolveImages(ctx context.Context, c *Compiled, buildAnyway bool) (hcl.Diagnostics, error) {
	if c.Plan == nil {
		return nil, nil
	}
	r := pins.New(registry.FromPlan(c.Plan))
	failed, err := pins.Resolve(ctx, c.Plan, r, buildAnyway)
	if err != nil {
		return nil, err
	}
	if err := pins.Triggers(ctx, c.Plan, r); err != nil {
		return nil, err
	}
	var diags hcl.Diagnostics
	for _, u := range failed {
		d := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot resolve an image",
			Detail:   fmt.Sprintf("%s. An online plan resolves every image nothing pins, so that a moved tag is seen; fix the registry or its credentials, pin the image with bakeplan lock, or pass --allow-unresolved to build without knowing (such a build is never up to date).", u.Error()),
		}
		if buildAnyway {
			d.Severity = hcl.DiagWarning
			d.Summary = "Cannot resolve an image; its builds will run"
			d.Detail = u.Error() + "."
		}
		for _, o := range u.Origins {
			dd := *d
			dd.Subject = originRange(c, o)
			diags = append(diags, &dd)
		}
		if len(u.Origins) == 0 {
			diags = append(diags, d)
		}
	}
	return diags, nil
}

// originRange is a plan range in a file diagnostics quote: the spec or a
// Dockerfile, read now if no diagnostic quoted it yet.
func originRange(c *Compiled, r *plan.Range) *hcl.Range {
	if c.Files != nil && c.Files[r.File] == nil {
		if b, err := os.ReadFile(r.File); err == nil {
			c.Files[r.File] = &hcl.File{Bytes: b}
		}
	}
	return sourceRange(c.Files, r.File, r)
}

// LockRequest asks to write the lock file beside the spec: every image
// every target pulls pinned, the pins moved only with Upgrade (all, or the
// references in Refs).
type LockRequest struct {
	Source  Source
	Inputs  Inputs
	Upgrade bool
	Refs    []string
	// Warn hears the compile's warnings.
	Warn func(files map[string]*hcl.File, diags hcl.Diagnostics)
}

// Locked is what Lock did.
type Locked struct {
	File    string // the lock file's path
	Changes []pins.Change
	// Wrote says whether the file changed; NothingPulled that no build
	// pulls an image by tag, so there is nothing to lock and nothing was
	// written.
	Wrote, NothingPulled bool
}

// Lock compiles every target of the spec, resolves what it pulls, and
// writes the lock file when it changes; nothing is written on any error.
func Lock(ctx context.Context, req LockRequest) (*Locked, error) {
	in := req.Inputs
	in.All, in.Locking = true, true
	c, err := Compile(ctx, req.Source, in)
	if err != nil {
		return nil, err
	}
	if c.Diags.HasErrors() {
		return nil, &Diagnostics{Files: c.Files, Diags: c.Diags}
	}
	if req.Warn != nil && len(c.Diags) > 0 {
		req.Warn(c.Files, c.Diags)
	}
	lock, changes, err := UpdateLock(ctx, c, pins.UpdateOptions{Upgrade: req.Upgrade, Refs: req.Refs})
	if err != nil {
		return nil, err
	}
	out := &Locked{File: filepath.Join(filepath.Dir(filepath.FromSlash(req.Source.Path)), lockfile.Name), Changes: changes}
	if len(changes) == 0 && c.Lock == nil {
		out.NothingPulled = true
		return out, nil
	}
	data := lock.Bytes()
	old, _ := os.ReadFile(out.File)
	if out.Wrote = !bytes.Equal(old, data); out.Wrote {
		if err := atomicfile.Write(out.File, data, 0o644); err != nil {
			return nil, fmt.Errorf("writing the lock file: %w", err)
		}
	}
	return out, nil
}
