package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/internal/realpath"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/views"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/render"
	"github.com/bakeplan/bakeplan/runtime/host"
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
			c, err := g.compile(cmd.Context(), g.selection(args))
			if err != nil {
				return err
			}
			if out != "" {
				if err := planOutsideContexts(out, c); err != nil {
					return err
				}
			}
			if !offline {
				if err := g.probe(cmd.Context(), c); err != nil {
					return err
				}
			}
			// The syntax trees are needed no more; let them go before the
			// plan is encoded, which matters for large specs.
			c.Files = nil
			var enc plan.Encoding
			if out != "" || asJSON {
				// They and the compiler's working state are garbage now.
				// Collecting on another core while the encoder runs lets
				// a large plan's JSON reuse that memory instead of growing
				// the process by its size.
				go runtime.GC()
				if enc, err = plan.Encode(c.Plan); err != nil {
					return err
				}
			}
			if out != "" {
				if err := atomicfile.Write(out, enc.Bytes(), 0o644); err != nil {
					return fmt.Errorf("saving the plan: %w", err)
				}
			}
			if asJSON {
				if _, err = enc.WriteTo(g.streams.out); err != nil {
					return err
				}
				if detailed && pending(c.Plan) {
					return exitCode(2)
				}
				return nil
			}
			if err := render.Text(g.streams.out, c.Plan); err != nil {
				return err
			}
			if out != "" {
				fmt.Fprintf(g.streams.out, "\nSaved the plan to %s (%s).\n", escape.Terminal(out), c.Plan.Digest)
			}
			if detailed && pending(c.Plan) {
				return exitCode(2)
			}
			return nil
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
		if st.Build != nil && (st.Build.Status == nil || st.Build.Status.State != "up-to-date") {
			return true
		}
	}
	return false
}

// planOutsideContexts refuses a plan file that a build context would
// include: writing it would change that context's digest, and the plan would
// be stale the moment it exists. It runs before anything is written, so an
// existing file there is left as it was.
func planOutsideContexts(out string, c *project.Compiled) error {
	abs, err := realOutPath(out)
	if err != nil {
		return err
	}
	rel := strings.TrimPrefix(filepath.ToSlash(abs), "/")
	h := inputs.New(c.FS)
	for _, st := range c.Plan.Steps {
		if st.Build == nil {
			continue
		}
		for _, in := range st.Build.Inputs {
			if !strings.HasPrefix(in.Kind, "context") {
				continue
			}
			dir := path.Join(c.SpecDir, in.Path)
			if real, err := realpath.Resolve(c.FS, dir); err == nil {
				dir = real
			}
			if !strings.HasPrefix(rel, dir+"/") {
				continue
			}
			dockerfile := ""
			if in.Kind == "context" && st.Build.Dockerfile != "" {
				dockerfile = path.Join(c.SpecDir, st.Build.Dockerfile)
			}
			inside, err := h.Includes(dir, dockerfile, strings.TrimPrefix(rel, dir+"/"))
			if err != nil {
				return err
			}
			if inside {
				return fmt.Errorf("%s lies inside the build context of %s (%s), so writing it would change that context and make the plan stale at once; write the plan elsewhere or list it in .dockerignore", out, st.ID, in.Path)
			}
		}
	}
	return nil
}

// realOutPath is where writing out would really land: an absolute path with
// the links of its directory (and of out itself) resolved. A directory is
// refused here, before a temporary file is made beside it.
func realOutPath(out string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return "", fmt.Errorf("%s is a directory; -out takes a file name", out)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("saving the plan: %w", err)
	}
	return filepath.Join(dir, filepath.Base(abs)), nil
}
