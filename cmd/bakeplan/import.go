package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/bakeplan/bakeplan/bakeimport"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/views"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

// bakeDefaults are the files bake reads when given no -f, those a spec is
// imported from (bake's override files are imported separately, into
// bakeplan.override.hcl, so that -f merges them as bake does).
var bakeDefaults = []string{"docker-bake.json", "docker-bake.hcl", "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}

func newImportCmd(g *globals) *cobra.Command {
	var (
		files []string
		out   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "import [-f docker-bake.hcl ...] [-o bakeplan.hcl]",
		Short: "Translate a docker buildx bake file into a bakeplan spec",
		Long: `import writes an equivalent, formatted bakeplan spec from bake files (HCL, or
JSON when the name ends in .json), as docker buildx bake v0.38.2 reads them:
bare variable names become var.NAME, names in inherits, groups and
"target:NAME" contexts become target.NAME, CSV strings become objects, and
bake's hyphenated attributes take bakeplan's names. Comments are kept.

What has no bakeplan equivalent is left in the spec as a "# bakeplan:" comment
and reported as a warning at the bake line. When the Dockerfile analysis finds
RUN steps on a platform this machine runs only under QEMU (bake used it
silently), the spec declares the emulator in a host block.

Paths in the spec are read from its directory, so write it beside the bake
file, in the directory bake runs in. The spec is written even when it does not
plan yet; the errors that stop it are shown, with exit status 1.`,
		Example: `  bakeplan import
  bakeplan import -f docker-bake.hcl -o bakeplan.hcl
  bakeplan import -f docker-bake.override.hcl -o bakeplan.override.hcl
  bakeplan import -f docker-bake.hcl -o - | less`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				for _, f := range bakeDefaults {
					if _, err := os.Stat(f); err == nil {
						files = []string{f}
						break
					}
				}
				if len(files) == 0 {
					return fmt.Errorf("no bake file here (%v); name one with -f", bakeDefaults)
				}
			}
			if out != "-" && !force {
				if _, err := os.Stat(out); err == nil {
					return fmt.Errorf("%s exists; give --force to replace it, or -o another name", out)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("checking %s: %w", out, err)
				}
			}
			var in []bakeimport.File
			bakeFiles := map[string]*hcl.File{}
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("reading the bake file: %w", err)
				}
				in = append(in, bakeimport.File{Name: f, Data: data})
				bakeFiles[f] = &hcl.File{Bytes: data}
			}
			target := out
			if target == "-" {
				target = "bakeplan.hcl"
			}
			dst, err := project.OnDisk(target)
			if err != nil {
				return err
			}
			// The spec is checked as bake would read it here: with the
			// environment's bare variable names.
			inputs := g.inputs(nil)
			inputs.BakeEnv = true
			res, diags, err := project.Import(cmd.Context(), in, dst, inputs)
			if err != nil {
				return err
			}
			if err := g.textDiagnostics(bakeFiles, diags); err != nil {
				return err
			}
			if err := g.textDiagnostics(bakeFiles, res.Warnings); err != nil {
				return err
			}
			if out == "-" {
				_, err = g.streams.out.Write(res.Spec)
			} else {
				err = atomicfile.Write(out, res.Spec, 0o644)
			}
			if err != nil {
				return fmt.Errorf("writing the spec: %w", err)
			}
			views.Imported(g.streams.err, files, out, len(res.Warnings), res.Emulators, res.Containerd)
			if c := res.Compiled; c.Diags.HasErrors() {
				var errs hcl.Diagnostics
				for _, d := range c.Diags {
					if d.Severity == hcl.DiagError {
						errs = append(errs, d)
					}
				}
				w := hcl.NewDiagnosticTextWriter(g.streams.err, c.Files, 0, g.color(g.streams.err))
				if len(errs) > maxDiagnostics {
					errs = errs[:maxDiagnostics]
				}
				if err := w.WriteDiagnostics(errs); err != nil {
					return fmt.Errorf("writing diagnostics: %w", err)
				}
				return fmt.Errorf("%s was written, but it does not plan yet: fix the errors above", out)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "a bake file (.hcl, or .json); again for more files, which must not define the same blocks (default: docker-bake.json or docker-bake.hcl)")
	cmd.Flags().StringVarP(&out, "output", "o", "bakeplan.hcl", "where to write the spec; - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file when it exists")
	cmd.Flags().StringVar(&g.nativePlatform, "native-platform", "", "find the emulators a build needs as if on this platform (default: this machine's)")
	return cmd
}
