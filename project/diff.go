package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/internal/gitfs"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/hashicorp/hcl/v2"
)

// DiffRequest asks what changes between two plans. Each side is a saved
// plan file, a spec file, or a git revision of the spec; Base "" is the
// merge base with the default branch and Head "" the working tree.
type DiffRequest struct {
	Base, Head string
	// Source is the spec in the working tree (-f, with its overrides),
	// which a revision is read at too; Inputs are compiled with each side.
	Source Source
	Inputs Inputs
	// Warn hears each side's compile warnings.
	Warn func(files map[string]*hcl.File, diags hcl.Diagnostics)
}

// Diff compiles (or reads) both sides and compares them step by step, with
// the files of each context at hand where a side has them.
func Diff(ctx context.Context, req DiffRequest) (*diff.Diff, error) {
	b, err := req.side(ctx, req.Base, true, "")
	if err != nil {
		return nil, err
	}
	defer b.close()
	h, err := req.side(ctx, req.Head, false, b.top)
	if err != nil {
		return nil, err
	}
	defer h.close()
	return diff.Compute(b.plan, h.plan, diff.Options{
		BaseLabel: b.label, HeadLabel: h.label,
		Files: func(which string, in *plan.Input, st *plan.Step) (map[string]string, error) {
			if which == "base" {
				return b.files(in, st)
			}
			return h.files(in, st)
		},
	}), nil
}

// side is one end of a diff.
type side struct {
	plan    *plan.Plan
	label   string
	fsys    fs.FS // nil for a saved plan: its files are not at hand
	specDir string
	list    func(in *plan.Input, st *plan.Step) (map[string]string, error)
	closeFn func()
	// top is the repository's top directory, for a side read from a git
	// revision.
	top string
}

func (s *side) close() {
	if s.closeFn != nil {
		s.closeFn()
	}
}

// files lists the files of a context input, for naming what changed.
func (s *side) files(in *plan.Input, st *plan.Step) (map[string]string, error) {
	if s.fsys == nil {
		return nil, errors.New("no files")
	}
	if s.list == nil {
		s.list = InputFiles(s.fsys, s.specDir)
	}
	return s.list(in, st)
}

// compile compiles one side, offline; warnings go to Warn.
func (req DiffRequest) compile(ctx context.Context, src Source) (*Compiled, error) {
	p, err := Plan(ctx, PlanRequest{Source: src, Inputs: req.Inputs})
	if err != nil {
		return nil, err
	}
	if req.Warn != nil && len(p.Diags) > 0 {
		req.Warn(p.Files, p.Diags)
	}
	return p.Compiled, nil
}

// side resolves an argument: a saved plan, a spec file, a git revision, or
// (empty) the working tree for the head and the merge base for the base.
// revTop is the repository of a base read from a git revision: the working
// tree is then read as that revision is, without .git, and the files no
// commit holds are marked so.
func (req DiffRequest) side(ctx context.Context, arg string, isBase bool, revTop string) (*side, error) {
	switch {
	case arg == "" && !isBase && revTop != "":
		return req.workTreeSide(ctx, revTop)
	case arg == "" && !isBase:
		c, err := req.compile(ctx, req.Source)
		if err != nil {
			return nil, err
		}
		return &side{plan: c.Plan, label: "working tree", fsys: c.FS, specDir: c.SpecDir}, nil
	case arg != "" && IsPlanFile(arg):
		p, err := ReadPlan(arg)
		if err != nil {
			return nil, err
		}
		return &side{plan: p, label: arg}, nil
	}
	if st, err := os.Stat(arg); arg != "" && err == nil && !st.IsDir() {
		src, err := OnDisk(arg)
		if err != nil {
			return nil, err
		}
		c, err := req.compile(ctx, src)
		if err != nil {
			return nil, err
		}
		return &side{plan: c.Plan, label: arg, fsys: c.FS, specDir: c.SpecDir}, nil
	}
	return req.revisionSide(ctx, arg)
}

// revisionSide is the spec as a git revision holds it ("" for the merge
// base with the default branch), read from git objects.
func (req DiffRequest) revisionSide(ctx context.Context, arg string) (*side, error) {
	absSpec, err := filepath.Abs(filepath.FromSlash(req.Source.Path))
	if err != nil {
		return nil, err
	}
	top, err := gitfs.TopLevel(ctx, filepath.Dir(absSpec))
	if err != nil {
		if arg == "" {
			return nil, fmt.Errorf("%s is not in a git repository, so there is no base revision to compare with; name two plan or spec files instead: bakeplan diff OLD NEW", filepath.Dir(absSpec))
		}
		return nil, fmt.Errorf("%q is not a file, and %s is not in a git repository where it could be a revision", arg, filepath.Dir(absSpec))
	}
	rev := arg
	if rev == "" {
		if rev, err = gitfs.DefaultBase(ctx, top); err != nil {
			return nil, err
		}
	}
	f, err := gitfs.Open(ctx, top, rev)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(top, absSpec)
	if err != nil {
		f.Close()
		return nil, err
	}
	label := rev
	if short := gitfs.ShortRev(ctx, top, rev); short != rev {
		label = rev + "@" + short
	}
	src := Source{FS: f, SpecPath: filepath.ToSlash(rel), Name: rev + ":" + filepath.ToSlash(rel), Repo: gitfs.Revision(top, rev)}
	// The override files the working tree's spec has, as the revision
	// holds them (one it does not hold is new since).
	for _, o := range req.Source.Overrides {
		orel, err := filepath.Rel(top, "/"+o.SpecPath)
		if err != nil {
			continue
		}
		orel = filepath.ToSlash(orel)
		if _, err := fs.Stat(f, orel); err == nil {
			src.Overrides = append(src.Overrides, Override{SpecPath: orel, Name: rev + ":" + orel})
		}
	}
	c, err := req.compile(ctx, src)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &side{plan: c.Plan, label: label, fsys: f, specDir: c.SpecDir, closeFn: func() { f.Close() }, top: top}, nil
}

// workTreeSide is the working tree compared with a revision of the
// repository at top, on the same footing: its .git directory is not part
// of it (no revision holds one), and each file no commit holds (untracked
// or ignored) is marked as such in the listings, not shown as added.
func (req DiffRequest) workTreeSide(ctx context.Context, top string) (*side, error) {
	src := req.Source
	src.FS = gitfs.HideGitDir(src.FS, top)
	c, err := req.compile(ctx, src)
	if err != nil {
		return nil, err
	}
	list, err := WorkTreeFiles(ctx, c.FS, c.SpecDir, top)
	if err != nil {
		return nil, err
	}
	return &side{plan: c.Plan, label: "working tree", fsys: c.FS, specDir: c.SpecDir, list: list}, nil
}
