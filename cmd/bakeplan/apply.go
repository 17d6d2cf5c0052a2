package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/views"
	"github.com/spf13/cobra"
)

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
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			g.json = asJSON
			var p *plan.Plan
			// comp is the compilation: its files for diagnostics, its FS
			// for context listings; for a saved plan, the plan its inputs
			// give now.
			var comp *project.Compiled
			planFile := ""
			if len(args) == 1 && isPlanFile(args[0]) {
				planFile = args[0]
			}
			var err error
			if planFile != "" {
				if p, comp, err = g.readSavedPlan(cmd, planFile); err != nil {
					return err
				}
			} else {
				if comp, err = g.compile(cmd.Context(), g.selection(args)); err != nil {
					return err
				}
				p = comp.Plan
			}
			probed := false
			if planFile != "" {
				if !offline && p.Probed() {
					// The host state the plan depended on is an input too.
					// This is the run's one probe: the plan is applied
					// with what it found.
					if err := g.probe(cmd.Context(), comp); err != nil {
						return err
					}
					probed = true
				}
				checked, err := project.CheckSaved(p, comp.Plan, planFile, probed)
				if err != nil {
					return err
				}
				p = checked
			}
			if !offline {
				if !probed {
					c := *comp
					c.Plan = p
					if err := g.probe(cmd.Context(), &c); err != nil {
						return err
					}
				}
				if changes := host.Changes(p); len(changes) > 0 {
					if dryRun {
						fmt.Fprintf(g.streams.out, "Host changes apply would make (nothing is changed now):\n")
						actions, err := host.Preview(p, g.hostOptions(p))
						if err != nil {
							return err
						}
						views.HostPreview(g.streams.out, actions)
						fmt.Fprintln(g.streams.out)
					} else {
						if err := g.approveHostChanges(p, autoApprove, allowDestructive); err != nil {
							return err
						}
						progress := func(st *plan.Step) { views.HostChange(g.streams.err, st) }
						if err := host.Fix(cmd.Context(), p, g.hostOptions(p), progress); err != nil {
							return err
						}
					}
				}
			}
			if opts.SpecDir, err = g.specDir(); err != nil {
				return err
			}
			opts.Files = comp.ContextFiles()
			opts.Rebuild = rebuild
			opts.DetailedRecord = detailedRecord
			if offline {
				// An offline run reads no registry, so it trusts no
				// up-to-date finding, not even a saved plan's: it builds.
				opts.Rebuild = []string{"*"}
			}
			opts.Env = endpoint.Env{BuildkitHost: g.getenv("BUILDKIT_HOST"), DockerHost: g.getenv("DOCKER_HOST")}
			opts.Out = g.streams.err
			if dryRun {
				reqs, err := apply.Requests(p, opts)
				if err != nil {
					return err
				}
				return views.DryRun(g.streams.out, p, reqs, opts.Env)
			}
			sum, err := apply.Apply(cmd.Context(), p, opts)
			if sum != nil && len(sum.Builds) > 0 {
				views.ApplySummary(opts.Out, sum)
			}
			if g.json {
				if sum != nil && err == nil {
					return views.WriteJSON(g.streams.out, sum)
				}
				if err != nil {
					return err
				}
			}
			if sum != nil && opts.Progress == "quiet" {
				for _, b := range sum.Builds {
					fmt.Fprintf(g.streams.out, "%s %s\n", escape.Terminal(b.Target), b.Digest)
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "print what would be sent to BuildKit and the registries; change nothing")
	f.IntVar(&opts.Parallelism, "parallelism", 0, "at most this many solves at once (0: no limit)")
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

// readSavedPlan reads a saved plan and compiles again the inputs it
// recorded (the spec, variables, Dockerfiles and context trees), for
// project.CheckSaved to compare; flags that would change them are refused.
func (g *globals) readSavedPlan(cmd *cobra.Command, planFile string) (saved *plan.Plan, fresh *project.Compiled, err error) {
	data, err := os.ReadFile(planFile)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the plan: %w", err)
	}
	if saved, err = plan.Unmarshal(data); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", planFile, err)
	}
	src, in, err := project.SavedInputs(saved, planFile, project.Overrides{
		Changed: cmd.Flags().Changed, NativePlatform: g.nativePlatform, Vars: g.vars, Targets: g.targets, Environ: g.environ,
	})
	if err != nil {
		return nil, nil, err
	}
	g.saved, g.file = &in, src.Name
	fresh, err = g.compileFrom(cmd.Context(), src, nil)
	if err != nil {
		return nil, nil, err
	}
	return saved, fresh, nil
}

// specDir is the spec's real directory, which the plan's paths are
// relative to: the compiler resolved symbolic links before checking them.
func (g *globals) specDir() (string, error) {
	abs, err := filepath.Abs(g.file)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(filepath.Dir(abs))
}

// progressModes are progressui's display modes.
var progressModes = []string{"auto", "tty", "plain", "rawjson", "quiet"}

func (g *globals) getenv(key string) string {
	for _, kv := range g.environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// isPlanFile says whether apply's argument is a saved plan rather than a
// target: a file that exists, or a name ending in .json.
func isPlanFile(arg string) bool {
	if strings.HasSuffix(arg, ".json") {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && st.Mode().IsRegular()
}
