package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/internal/environ"
	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/views"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

// newApplyCmd is the apply command: its help text and flags make it long;
// what it does is project.Apply and a view.
func newApplyCmd(g *globals) *cobra.Command {
	var (
		opts             apply.Options
		dryRun           bool
		offline          bool
		autoApprove      bool
		allowDestructive bool
		asJSON           bool
		rebuild          []string
		detailedRecord   bool
	)
	cmd := &cobra.Command{
		Use:   "apply [PLANFILE | TARGET|GROUP...]",
		Short: "Build and publish: run the plan against BuildKit",
		Long: `apply compiles the spec (or loads PLANFILE) and runs its builds on BuildKit in
dependency order, independent targets at the same time. Builds push by digest;
tags are written only after every build of the run succeeded, so a failed or
interrupted run moves no tag.

A saved plan (bakeplan plan -out FILE) is applied exactly: before anything
runs, every input it recorded is recomputed (the spec, variables, Dockerfiles,
context trees, and the host state of a probed plan), and a stale plan is
refused, naming each input that changed. A plan edited by hand is refused.

Unless --offline, apply first probes the host and fixes what differs from the
spec (registers QEMU emulators, switches Docker to the containerd image store)
once you approve: an interactive "yes" or --auto-approve, and
--allow-destructive for the image store switch.

The default builder is BUILDKIT_HOST when set, else the Docker Engine at
DOCKER_HOST (or Docker's default socket).`,
		Example: `  bakeplan apply --dry-run
  bakeplan apply --target app --progress plain
  bakeplan plan -out release.plan.json && bakeplan apply release.plan.json`,
		Args: cobra.ArbitraryArgs,
		PreRunE: func(*cobra.Command, []string) error {
			// Checked before anything is read or dialled.
			if !slices.Contains(progressModes, opts.Progress) {
				return fmt.Errorf("--progress is one of %s, not %q", strings.Join(progressModes, ", "), opts.Progress)
			}
			if opts.Parallelism < 0 {
				return fmt.Errorf("--parallelism is 0 (no limit) or more, not %d", opts.Parallelism)
			}
			if opts.Failover < 0 {
				return fmt.Errorf("--failover is 0 (never) or more, not %d", opts.Failover)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			g.json = asJSON
			req := project.ApplyRequest{
				DryRun:       dryRun,
				Approve:      g.approveHostChanges(autoApprove, allowDestructive),
				HostProgress: func(st *plan.Step) { views.HostChange(g.streams.err, st) },
				Warn:         func(files map[string]*hcl.File, diags hcl.Diagnostics) { _ = g.reportFiles(files, diags) },
				Options:      opts,
			}
			req.Options.Rebuild, req.Options.DetailedRecord, req.Options.Out = rebuild, detailedRecord, g.streams.err
			var err error
			if len(args) == 1 && project.IsPlanFile(args[0]) {
				req.SavedPlan, req.Overrides = args[0], g.savedOverrides(cmd)
				req.Plan.Online, req.Plan.Inputs.Environ = g.online(offline), g.environ
			} else if req.Plan, err = g.planRequest(g.selection(args), offline); err != nil {
				return err
			}
			res, err := project.Apply(cmd.Context(), req)
			if err != nil && (res == nil || res.Summary == nil) {
				return err
			}
			return g.showApplied(res, req, err)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "print what would be sent to BuildKit and the registries; change nothing")
	f.IntVar(&opts.Parallelism, "parallelism", 0, "at most this many solves at once (0: no limit)")
	f.IntVar(&opts.Failover, "failover", 2, "move a build on a pool node that dies or stops answering to another node of the pool, at most this many times (0: never)")
	f.DurationVar(&opts.StallTimeout, "stall-timeout", 0, "give up a solve whose builder sends no progress for this long (such as 10m), as a node that stopped answering: on a pool it moves to another node (0: never; a step silent for longer trips it too)")
	f.BoolVar(&opts.KeepGoing, "keep-going", false, "after a failure, build what does not depend on it and tag what fully succeeded")
	f.StringVar(&opts.Progress, "progress", "auto", "progress output: auto, tty, plain, rawjson or quiet")
	f.StringVar(&opts.MetadataFile, "metadata-file", "", "write the digests and tags as JSON to this file")
	f.BoolVar(&offline, "offline", false, "do not probe or change the host; only build")
	f.BoolVar(&autoApprove, "auto-approve", false, "make host changes without asking")
	f.BoolVar(&allowDestructive, "allow-destructive", false, "allow host changes that hide or lose something (the image store switch)")
	f.BoolVar(&asJSON, "json", false, "print what was built and tagged as JSON (errors as JSON diagnostics)")
	f.StringSliceVar(&rebuild, "rebuild", nil, "build even what the plan finds up to date: every target (--rebuild), or those named (--rebuild=app,worker)")
	f.Lookup("rebuild").NoOptDefVal = "*"
	f.BoolVar(&detailedRecord, "detailed-record", false, "publish each image's detailed input record (context file names and digests, args, images) so any machine can say why it builds again; by default the image carries only the input digest, and the detail stays in this machine's cache")
	g.probeFlags(cmd)
	_ = cmd.RegisterFlagCompletionFunc("progress", fixedCompletion(progressModes...))
	g.targetFlag(cmd)
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"json"}, cobra.ShellCompDirectiveFilterFileExt
	}
	return cmd
}

// progressModes are progressui's display modes.
var progressModes = []string{"auto", "tty", "plain", "rawjson", "quiet"}

func (g *globals) getenv(key string) string {
	v, _ := environ.Lookup(g.environ, key)
	return v
}

// showApplied shows what a run did (or, for a dry run, would do); err is
// the run's error, returned after the summary of what happened.
func (g *globals) showApplied(res *project.Applied, req project.ApplyRequest, err error) error {
	if req.DryRun {
		if len(res.HostActions) > 0 {
			fmt.Fprintf(g.streams.out, "Host changes apply would make (nothing is changed now):\n")
			views.HostPreview(g.streams.out, res.HostActions)
			fmt.Fprintln(g.streams.out)
		}
		return views.DryRun(g.streams.out, res.Plan, res.Requests, endpoint.Env{BuildkitHost: g.getenv("BUILDKIT_HOST"), DockerHost: g.getenv("DOCKER_HOST")})
	}
	sum := res.Summary
	if len(sum.Builds) > 0 {
		views.ApplySummary(g.streams.err, sum)
	}
	if g.json {
		if err != nil {
			return err
		}
		return views.WriteJSON(g.streams.out, sum)
	}
	if req.Options.Progress == "quiet" {
		for _, b := range sum.Builds {
			fmt.Fprintf(g.streams.out, "%s %s\n", escape.Terminal(b.Target), b.Digest)
		}
	}
	return err
}

// savedOverrides are the command line's flags that must agree with a
// saved plan.
func (g *globals) savedOverrides(cmd *cobra.Command) project.Overrides {
	return project.Overrides{Changed: cmd.Flags().Changed, NativePlatform: g.nativePlatform, Vars: g.vars, Targets: g.targets, Environ: g.environ}
}
