package main

import (
	"fmt"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/views"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

func newLockCmd(g *globals) *cobra.Command {
	var upgrade bool
	cmd := &cobra.Command{
		Use:   "lock [-upgrade [REF...]]",
		Short: "Pin every image the builds pull in bakeplan.lock.hcl",
		Long: `lock resolves every image the spec's builds pull (each FROM after ARG
substitution, per platform; COPY --from and RUN --mount=from images;
docker-image:// contexts; the # syntax= frontend) at its registry, and writes
bakeplan.lock.hcl beside the spec: per reference, the digest its tag points at
and the manifest of each platform the builds pull. It covers every target,
whatever the default group holds.

Without -upgrade, lock only adds pins that are missing (and platforms a pin
lacks, read from the locked index, not the tag) and drops pins no build uses;
it never moves a pin. -upgrade moves every pin to what its tag points at now,
or only those of the references named.

With a lock file, apply builds from the locked bytes even when a tag moves,
and plan shows a tag that moved away from its pin.`,
		Example: `  bakeplan lock
  bakeplan lock -upgrade
  bakeplan lock -upgrade golang:1.26`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && !upgrade {
				return fmt.Errorf("lock takes references only with -upgrade, to name the pins to move")
			}
			src, err := g.source()
			if err != nil {
				return err
			}
			res, err := project.Lock(cmd.Context(), project.LockRequest{
				Source: src, Inputs: g.inputs(nil), Upgrade: upgrade, Refs: args,
				Warn: func(files map[string]*hcl.File, diags hcl.Diagnostics) { _ = g.reportFiles(files, diags) },
			})
			if err != nil {
				return err
			}
			if res.NothingPulled {
				fmt.Fprintf(g.streams.out, "No build pulls an image by tag; %s was not written.\n", escape.Terminal(res.File))
				return nil
			}
			views.Lock(g.streams.out, res.Changes, res.File, res.Wrote)
			return nil
		},
	}
	cmd.Flags().BoolVar(&upgrade, "upgrade", false, "move pins to what their tags point at now (all, or the references named); -upgrade works too")
	g.specFlags(cmd)
	return cmd
}
