package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/views"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
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
			var files map[string]*hcl.File
			var fresh *plan.Plan // the plan the inputs give now, for a saved plan
			planFile := ""
			if len(args) == 1 && isPlanFile(args[0]) {
				planFile = args[0]
			}
			if planFile != "" {
				if len(g.targets) > 0 {
					return fmt.Errorf("--target cannot be given with a plan file: %s applies the targets it was made for; make a new plan to change them", planFile)
				}
				data, err := os.ReadFile(args[0])
				if err != nil {
					return fmt.Errorf("reading the plan: %w", err)
				}
				if p, err = plan.Unmarshal(data); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				if err := g.usePlanFile(cmd, args[0], p); err != nil {
					return err
				}
				// Recompute every input the plan recorded: the spec, the
				// variables, Dockerfiles and context trees.
				c, err := g.compile(cmd.Context(), p.Select)
				if err != nil {
					return err
				}
				fresh, files = c.plan, c.files
			} else {
				c, err := g.compile(cmd.Context(), g.selection(args))
				if err != nil {
					return err
				}
				p, files = c.plan, c.files
			}
			probed := false
			if fresh != nil {
				if !offline && p.Probed() {
					// The host state the plan depended on is an input too.
					// This is the run's one probe: the plan is applied
					// with what it found.
					if err := g.probe(cmd.Context(), &compiled{plan: fresh, files: files}); err != nil {
						return err
					}
					probed = true
				}
				if stale := diff.Stale(p, fresh); len(stale) > 0 {
					return fmt.Errorf("%s is stale; nothing was run. Make a new plan. What changed:\n  %s", args[0], strings.Join(stale, "\n  "))
				}
				// Sensitive values never enter a plan file; the fresh plan
				// has them, and its fingerprints match.
				for _, st := range p.Steps {
					if st.Build == nil || len(st.Build.SensitiveFingerprints) == 0 {
						continue
					}
					st.Build.SensitiveValues = fresh.Step(st.ID).Build.SensitiveValues
				}
				if probed {
					for _, st := range p.Steps {
						if n := fresh.Step(st.ID); n != nil {
							st.Observed, st.Change, st.Action = n.Observed, n.Change, n.Action
						}
					}
				}
			}
			if !offline {
				if !probed {
					if err := g.probe(cmd.Context(), &compiled{plan: p, files: files}); err != nil {
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
			abs, err := filepath.Abs(g.file)
			if err != nil {
				return err
			}
			// The plan's paths are relative to the spec's real directory:
			// the compiler resolved symbolic links before checking them.
			if opts.SpecDir, err = filepath.EvalSymlinks(filepath.Dir(abs)); err != nil {
				return err
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
					fmt.Fprintf(g.streams.out, "%s %s\n", b.Target, b.Digest)
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
	for _, kv := range g.environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// usePlanFile makes the command compile exactly what the saved plan was made
// from: its spec path, variables, targets and native platform. Flags that
// would change those are refused; --var is allowed for sensitive
// variables only, whose values a plan never holds and which must match the
// fingerprints it recorded.
func (g *globals) usePlanFile(cmd *cobra.Command, name string, p *plan.Plan) error {
	for _, f := range []string{"file", "var-file", "native-platform"} {
		if f == "native-platform" && cmd.Flags().Changed(f) {
			// Naming the plan's own platform changes nothing.
			if pl, err := platforms.Parse(g.nativePlatform); err == nil && platforms.Format(platforms.Normalize(pl)) == p.NativePlatform {
				continue
			}
		}
		if cmd.Flags().Changed(f) {
			return fmt.Errorf("--%s cannot be given with a plan file: %s records the spec, variables, targets and native platform it was made from, and applies exactly those; make a new plan to change them", f, name)
		}
	}
	sensitive := map[string]bool{}
	for _, v := range p.Variables {
		if v.Sensitive {
			sensitive[v.Name] = true
		}
	}
	for _, assign := range g.vars {
		n, _, _ := strings.Cut(assign, "=")
		if !sensitive[n] {
			return fmt.Errorf("--var %s cannot be given with a plan file: %s recorded the value of every variable that is not sensitive; make a new plan to change it (--var is only for sensitive variables, whose values a plan never holds)", n, name)
		}
	}
	if p.Spec.Path == "" {
		return fmt.Errorf("%s records no spec path; it was made by an older bakeplan: make a new plan", name)
	}
	g.file = filepath.FromSlash(p.Spec.Path)
	g.nativePlatform = p.NativePlatform
	g.recorded = p.Variables
	// The environment may set sensitive variables only: the others are
	// the plan's.
	var env []string
	for _, kv := range g.environ {
		if rest, ok := strings.CutPrefix(kv, compiler.EnvPrefix); ok {
			if n, _, _ := strings.Cut(rest, "="); !sensitive[n] {
				continue
			}
		}
		env = append(env, kv)
	}
	g.environ = env
	return nil
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
