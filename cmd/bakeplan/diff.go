package main

import (
	"fmt"

	diffrender "github.com/bakeplan/bakeplan/diff/render"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/project"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

// newDiffCmd is the diff command: its help text and flags make it long;
// what it does is project.Diff and a view.
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
			req := project.DiffRequest{Base: base, Warn: func(files map[string]*hcl.File, diags hcl.Diagnostics) { _ = g.reportFiles(files, diags) }}
			switch len(args) {
			case 1:
				req.Base = args[0]
			case 2:
				req.Base, req.Head = args[0], args[1]
			}
			src, err := g.source()
			if err != nil {
				return err
			}
			req.Source, req.Inputs = src, g.inputs(g.targets)
			d, err := project.Diff(cmd.Context(), req)
			if err != nil {
				return err
			}
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
