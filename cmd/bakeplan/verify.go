package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/runtime/verify"
	"github.com/bakeplan/bakeplan/views"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

func newVerifyCmd(g *globals) *cobra.Command {
	var (
		opts     verify.Options
		progress string
		metadata string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "verify [TARGET|GROUP...] [PLANFILE]",
		Short: "Rebuild release targets from scratch and check they match what was published",
		Long: `verify rebuilds the selected release targets (those of a spec with a release
block) from the spec or a saved plan, without cache, to a local OCI layout,
pushing and tagging nothing, and compares each platform's image with what the
targets' tags point at, or with the digests a release run's --metadata-file
recorded.

Identical images exit 0 with a line per target and platform. Different ones
exit 2 with what differs: the configuration fields (created, history, env,
labels), the layers, and inside them the files (size, mode, mtime, content).
Attestations are compared apart: provenance records build times, so it
differs between builds by design.

--builder rebuilds on another declared builder than the release used; on
another machine it is the strongest check.`,
		Example: `  bakeplan verify
  bakeplan verify app --builder other-machine
  bakeplan verify release.plan.json --metadata-file release.json --json`,
		Args: cobra.ArbitraryArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if !slices.Contains(progressModes, progress) {
				return fmt.Errorf("--progress is one of %s, not %q", strings.Join(progressModes, ", "), progress)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			g.json = asJSON
			req := project.VerifyRequest{
				Metadata: metadata,
				Warn:     func(files map[string]*hcl.File, diags hcl.Diagnostics) { _ = g.reportFiles(files, diags) },
				Options:  opts,
			}
			req.Options.Apply.Out, req.Options.Apply.Progress = g.streams.err, progress
			var err error
			if len(args) == 1 && project.IsPlanFile(args[0]) {
				req.SavedPlan, req.Overrides = args[0], g.savedOverrides(cmd)
				req.Plan.Inputs.Environ = g.environ
			} else if req.Plan, err = g.planRequest(g.selection(args), true); err != nil {
				return err
			}
			res, err := project.Verify(cmd.Context(), req)
			if err != nil {
				return err
			}
			if asJSON {
				err = views.WriteJSON(g.streams.out, res)
			} else {
				views.Verify(g.streams.out, res)
			}
			if err != nil {
				return err
			}
			if !res.Identical() {
				return exitCode(2)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Builder, "builder", "", "rebuild on this declared builder instead of the ones the plan assigns")
	f.StringVar(&metadata, "metadata-file", "", "compare with the digests this release run's --metadata-file recorded, not with the tags")
	f.StringVar(&progress, "progress", "auto", "progress output of the rebuild: auto, tty, plain, rawjson or quiet")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	_ = cmd.RegisterFlagCompletionFunc("progress", fixedCompletion(progressModes...))
	g.targetFlag(cmd)
	return cmd
}
