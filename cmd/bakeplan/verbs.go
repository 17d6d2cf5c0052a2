package main

import (
	"fmt"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/render"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/views"
	"github.com/spf13/cobra"
)

func newValidateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the spec and report every problem",
		Example: `  bakeplan validate
  bakeplan validate -f examples/release/bakeplan.hcl --var VERSION=v1.2.3
  bakeplan validate --json | jq '.diagnostics[] | .range.start.line'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.lint, g.warnUnbuilt = true, true
			if g.json {
				// The result carries every diagnostic, warnings too.
				src, err := g.source()
				if err != nil {
					return err
				}
				c, err := project.Compile(cmd.Context(), src, g.inputs(nil))
				if err != nil {
					return err
				}
				if err := views.WriteJSON(g.streams.out, views.NewResult(c.Diags, c.Files)); err != nil {
					return err
				}
				if c.Diags.HasErrors() {
					return errReported
				}
				return nil
			}
			c, err := g.compile(cmd.Context(), nil)
			if err != nil {
				return err
			}
			builds := 0
			for _, s := range c.Plan.Steps {
				if s.Build != nil {
					builds++
				}
			}
			fmt.Fprintf(g.streams.out, "The spec is valid: %s.\n", render.Count(len(c.Plan.Steps), "step")+", "+render.Count(builds, "build"))
			return nil
		},
	}
	cmd.Flags().BoolVar(&g.json, "json", false, "print the result and every diagnostic as versioned JSON")
	cmd.Flags().BoolVar(&g.strict, "strict", false, "treat Dockerfile lint findings (docker build --check's rules) as errors")
	return cmd
}

func newPlanCmd(g *globals) *cobra.Command {
	var (
		offline  bool
		out      string
		asJSON   bool
		detailed bool
	)
	cmd := &cobra.Command{
		Use:   "plan [TARGET|GROUP...]",
		Short: "Compile the spec and show the steps it would run",
		Long: `plan compiles the spec into a checked plan and shows every step in the order
it would run: host requirements, builds with their platforms (native or
emulated) and inputs, and publishes. With no TARGET it plans the group
"default", or every target when there is no such group.

Unless --offline, it first probes the host (emulators in binfmt_misc, Docker's
image store, builders, registries) and shows how it differs from the spec,
Terraform style; a requirement bakeplan cannot fix is an error.`,
		Example: `  bakeplan plan
  bakeplan plan --offline app --var VERSION=v1.2.3 -out release.plan.json
  bakeplan plan --detailed-exitcode   # 0: nothing to do, 2: builds, tags, host changes or moved pins pending
  bakeplan plan --json | jq '.steps[].id'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			g.json = asJSON
			req, err := g.planRequest(g.selection(args), offline)
			if err != nil {
				return err
			}
			req.SaveTo = out
			planned, err := project.Plan(cmd.Context(), req)
			if err != nil {
				return err
			}
			if err := g.reportFiles(planned.Files, planned.Diags); err != nil {
				return err
			}
			return g.showPlan(planned, out, asJSON, detailed)
		},
	}
	cmd.Flags().BoolVar(&offline, "offline", false, "plan without probing the host, builders or registries")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when nothing is to do (host as declared, locked tags in place, every build up to date), 2 when a host change, a moved locked tag, a build or a tag move is pending, 1 on error")
	cmd.Flags().StringVarP(&out, "out", "o", "", "also write the plan as JSON to this file (-out works too)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as versioned JSON instead of text (and errors as JSON diagnostics)")
	g.probeFlags(cmd)
	g.targetFlag(cmd)
	cmd.ValidArgsFunction = g.completeTargets
	return cmd
}

func newGraphCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "graph [TARGET|GROUP...]",
		Short: "Print the plan's step graph as Graphviz dot or Mermaid",
		Example: `  bakeplan graph | dot -Tsvg > plan.svg
  bakeplan graph --format mermaid`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "dot" && format != "mermaid" {
				return fmt.Errorf("--format is dot or mermaid, not %q", format)
			}
			c, err := g.compile(cmd.Context(), g.selection(args))
			if err != nil {
				return err
			}
			if format == "mermaid" {
				return render.Mermaid(g.streams.out, c.Plan)
			}
			return render.Dot(g.streams.out, c.Plan)
		},
	}
	cmd.Flags().StringVar(&format, "format", "dot", "dot or mermaid")
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion("dot", "mermaid"))
	g.targetFlag(cmd)
	cmd.ValidArgsFunction = g.completeTargets
	return cmd
}

// pending says whether a plan leaves something to do: a host change, a
// locked image whose tag moved, or a build that is not known to be up to
// date (one to run or re-tag, or one no registry can vouch for).
func pending(p *plan.Plan) bool {
	if len(host.Changes(p)) > 0 || len(p.Drifted()) > 0 {
		return true
	}
	for _, st := range p.Steps {
		if st.Build != nil && (st.Build.Status == nil || st.Build.Status.State != plan.UpToDate) {
			return true
		}
	}
	return false
}

// showPlan saves the plan when asked, and shows it as text or JSON; with
// detailed, a plan that leaves something to do exits 2.
func (g *globals) showPlan(planned *project.Planned, out string, asJSON, detailed bool) error {
	p := planned.Plan()
	var enc plan.Encoding
	var err error
	switch {
	case out != "":
		enc, err = planned.Save(out)
	case asJSON:
		enc, err = planned.Encode()
	}
	if err != nil {
		return err
	}
	if asJSON {
		if _, err = enc.WriteTo(g.streams.out); err != nil {
			return err
		}
	} else {
		if err := render.Text(g.streams.out, p); err != nil {
			return err
		}
		if out != "" {
			fmt.Fprintf(g.streams.out, "\nSaved the plan to %s (%s).\n", escape.Terminal(out), p.Digest)
		}
	}
	if detailed && pending(p) {
		return exitCode(2)
	}
	return nil
}
