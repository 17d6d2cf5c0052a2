package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/verify"
	"github.com/bakeplan/bakeplan/views"
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
			var p *plan.Plan
			if len(args) == 1 && isPlanFile(args[0]) {
				saved, fresh, err := g.readSavedPlan(cmd, args[0])
				if err != nil {
					return err
				}
				if p, err = project.CheckSaved(saved, fresh.Plan, args[0], false); err != nil {
					return err
				}
			} else {
				c, err := g.compile(cmd.Context(), g.selection(args))
				if err != nil {
					return err
				}
				p = c.Plan
			}
			if metadata != "" {
				data, err := os.ReadFile(metadata)
				if err != nil {
					return fmt.Errorf("reading the release's metadata: %w", err)
				}
				opts.Release = &apply.Summary{}
				if err := json.Unmarshal(data, opts.Release); err != nil {
					return fmt.Errorf("%s: %w", metadata, err)
				}
			}
			var err error
			if opts.Apply.SpecDir, err = g.specDir(); err != nil {
				return err
			}
			opts.Apply.Env = endpoint.Env{BuildkitHost: g.getenv("BUILDKIT_HOST"), DockerHost: g.getenv("DOCKER_HOST")}
			opts.Apply.Out, opts.Apply.Progress = g.streams.err, progress
			res, err := verify.Verify(cmd.Context(), p, opts)
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
