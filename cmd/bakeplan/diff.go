package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bakeplan/bakeplan/diff"
	diffrender "github.com/bakeplan/bakeplan/diff/render"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/internal/gitfs"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/project"
	"github.com/spf13/cobra"
)

func newDiffCmd(g *globals) *cobra.Command {
	var (
		base     string
		format   string
		detailed bool
		maxBytes int
		split    string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "diff [BASE [HEAD]]",
		Short: "Show what changes between two plans, specs or revisions",
		Long: `diff compares two plans step by step: images, platforms, tags, arguments,
dependencies and host requirements, and why a build must run again (which
Dockerfile or context files changed). No build runs.

Each side is a saved plan file (.json), a spec file, or a git revision of the
spec named by -f, read from git objects without a checkout. With no
argument the base is --base (default: the merge base with the default
branch) and the head is the working tree; with one argument, that is the
base.`,
		Example: `  bakeplan diff                                  # the working tree against the merge base
  bakeplan diff --base origin/main --format markdown > comment.md
  bakeplan diff old.plan.json new.plan.json --detailed-exitcode
  bakeplan diff HEAD~1 HEAD`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				format, g.json = "json", true
			}
			if format != "text" && format != "markdown" && format != "json" {
				return fmt.Errorf("--format is text, markdown or json, not %q", format)
			}
			if split != "" && (format != "markdown" || maxBytes <= 0) {
				return fmt.Errorf("--split writes a Markdown comment in parts: it needs --format markdown and a --max-bytes above 0")
			}
			ctx := cmd.Context()
			var baseArg, headArg string
			switch len(args) {
			case 0:
				baseArg = base
			case 1:
				baseArg = args[0]
			case 2:
				baseArg, headArg = args[0], args[1]
			}
			b, err := g.side(ctx, baseArg, true, "")
			if err != nil {
				return err
			}
			defer b.close()
			h, err := g.side(ctx, headArg, false, b.top)
			if err != nil {
				return err
			}
			defer h.close()

			d := diff.Compute(b.plan, h.plan, diff.Options{
				BaseLabel: b.label, HeadLabel: h.label,
				Files: func(which string, in *plan.Input, st *plan.Step) (map[string]string, error) {
					s := h
					if which == "base" {
						s = b
					}
					return s.files(in, st)
				},
			})
			switch format {
			case "json":
				err = diffrender.JSON(g.streams.out, d)
			case "markdown":
				if split != "" {
					err = writeParts(g, split, diffrender.MarkdownParts(d, maxBytes))
					break
				}
				err = diffrender.Markdown(g.streams.out, d, diffrender.MarkdownOptions{MaxBytes: maxBytes})
			default:
				err = diffrender.Text(g.streams.out, d, g.color(g.streams.out))
			}
			if err != nil {
				return err
			}
			if detailed && d.Changed() {
				return exitCode(2)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "the git revision to compare with (default: the merge base of HEAD and the default branch)")
	cmd.Flags().StringVar(&format, "format", "text", "text, markdown or json")
	cmd.Flags().StringVar(&split, "split", "", "with --format markdown, write the comment in parts of at most --max-bytes each, as PREFIX-1.md, PREFIX-2.md, …, leaving nothing out that fits a part, and print their names")
	cmd.Flags().IntVar(&maxBytes, "max-bytes", diffrender.DefaultMaxBytes, "with --format markdown, the most the comment may hold (GitHub's limit by default; 0: no limit): beyond it, the least important detail is left out, and the comment says what")
	cmd.Flags().BoolVar(&asJSON, "json", false, "the same as --format json (errors as JSON diagnostics too)")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when nothing changed, 2 when something did, 1 on error")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion("text", "markdown", "json"))
	g.targetFlag(cmd)
	return cmd
}

// writeParts writes a comment's parts as PREFIX-N.md and prints their
// names; every part is written whole or not at all.
func writeParts(g *globals, prefix string, parts []string) error {
	for i, p := range parts {
		name := fmt.Sprintf("%s-%d.md", prefix, i+1)
		if err := atomicfile.Write(name, []byte(p), 0o644); err != nil {
			return fmt.Errorf("--split: %w", err)
		}
		fmt.Fprintln(g.streams.out, escape.Terminal(name))
	}
	return nil
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
		s.list = project.InputFiles(s.fsys, s.specDir)
	}
	return s.list(in, st)
}

// side resolves an argument: a saved plan, a spec file, a git revision, or
// (empty) the working tree for the head and the merge base for the base.
// revTop is the repository of a base read from a git revision: the working
// tree is then read as that revision is, without .git, and the files no
// commit holds are marked so.
func (g *globals) side(ctx context.Context, arg string, isBase bool, revTop string) (*side, error) {
	if arg == "" && !isBase {
		if revTop != "" {
			return g.workTreeSide(ctx, revTop)
		}
		c, err := g.compile(ctx, g.targets)
		if err != nil {
			return nil, err
		}
		return &side{plan: c.Plan, label: "working tree", fsys: c.FS, specDir: c.SpecDir}, nil
	}
	if arg != "" && project.IsPlanFile(arg) {
		p, err := project.ReadPlan(arg)
		if err != nil {
			return nil, err
		}
		return &side{plan: p, label: arg}, nil
	}
	if arg != "" {
		if st, err := os.Stat(arg); err == nil && !st.IsDir() {
			src, err := project.OnDisk(arg)
			if err != nil {
				return nil, err
			}
			c, err := g.compileFrom(ctx, src, g.targets)
			if err != nil {
				return nil, err
			}
			return &side{plan: c.Plan, label: arg, fsys: c.FS, specDir: c.SpecDir}, nil
		}
	}
	// A git revision of the spec.
	absSpec, err := filepath.Abs(g.file)
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
	src := project.Source{FS: f, SpecPath: filepath.ToSlash(rel), Name: rev + ":" + filepath.ToSlash(rel), Repo: gitfs.Revision(top, rev)}
	// The override files the working tree's spec has, as the revision
	// holds them (one it does not hold is new since).
	if head, err := g.source(); err == nil {
		for _, o := range head.Overrides {
			orel, err := filepath.Rel(top, "/"+o.SpecPath)
			if err != nil {
				continue
			}
			orel = filepath.ToSlash(orel)
			if _, err := fs.Stat(f, orel); err == nil {
				src.Overrides = append(src.Overrides, project.Override{SpecPath: orel, Name: rev + ":" + orel})
			}
		}
	}
	c, err := g.compileFrom(ctx, src, g.targets)
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
func (g *globals) workTreeSide(ctx context.Context, top string) (*side, error) {
	src, err := g.source()
	if err != nil {
		return nil, err
	}
	src.FS = gitfs.HideGitDir(src.FS, top)
	c, err := g.compileFrom(ctx, src, g.targets)
	if err != nil {
		return nil, err
	}
	list, err := project.WorkTreeFiles(ctx, c.FS, c.SpecDir, top)
	if err != nil {
		return nil, err
	}
	return &side{plan: c.Plan, label: "working tree", fsys: c.FS, specDir: c.SpecDir, list: list}, nil
}
