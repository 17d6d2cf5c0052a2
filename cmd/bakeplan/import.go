package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/bakeimport"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/views"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

// bakeDefaults are the files bake reads when given no -f; the first found
// is imported, with bake's override file after it (bakeOverrides).
var (
	bakeDefaults  = []string{"docker-bake.json", "docker-bake.hcl", "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}
	bakeOverrides = []string{"docker-bake.override.json", "docker-bake.override.hcl"}
)

// newImportCmd is the import command: its help text and flags make it
// long; what it does is project.Import and a view.
func newImportCmd(g *globals) *cobra.Command {
	var (
		files []string
		out   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "import [-f docker-bake.hcl ...] [-o bakeplan.hcl]",
		Short: "Translate docker buildx bake files into bakeplan specs",
		Long: `import writes an equivalent, formatted bakeplan spec from a bake file (HCL,
JSON when the name ends in .json, or a compose file's build sections), as
docker buildx bake v0.38.2 reads it: bare variable names become var.NAME,
names in inherits, groups and "target:NAME" contexts become target.NAME, CSV
strings become objects, and bake's hyphenated attributes take bakeplan's
names. Comments are kept.

Each further -f file becomes a spec of its own, which bakeplan lays on the
first with -f as bake lays the files on each other: docker-bake.override.hcl
becomes bakeplan.override.hcl (read by default, as bake's is), any other
NAME.hcl becomes bakeplan.NAME.hcl beside the spec. Without -f, import reads
bake's default files.

What has no bakeplan equivalent is left in the spec as a "# bakeplan:" comment
and reported as a warning at the bake line. When the Dockerfile analysis finds
RUN steps on a platform this machine runs only under QEMU (bake used it
silently), the spec declares the emulator in a host block.

Paths in the spec are read from its directory, so write it beside the bake
file, in the directory bake runs in. The specs are written even when they do
not plan yet; the errors that stop them are shown, with exit status 1.`,
		Example: `  bakeplan import
  bakeplan import -f docker-bake.hcl -o bakeplan.hcl
  bakeplan import -f docker-bake.hcl -f docker-bake.override.hcl
  bakeplan import -f compose.yaml -o - | less`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				files = defaultBakeFiles()
				if len(files) == 0 {
					return fmt.Errorf("no bake file here (%s); name one with -f", strings.Join(bakeDefaults, ", "))
				}
			}
			outs := specNames(out, files)
			if err := checkOutputs(outs, force); err != nil {
				return err
			}
			in, bakeFiles, err := readBakeFiles(files)
			if err != nil {
				return err
			}
			dst, err := importDestination(outs)
			if err != nil {
				return err
			}
			// The specs are checked as bake would read the files here:
			// with the environment's bare variable names.
			inputs := g.inputs(nil)
			inputs.BakeEnv = true
			res, diags, err := project.Import(cmd.Context(), in, dst, inputs)
			if err != nil {
				return err
			}
			if res != nil {
				diags = append(diags, res.Warnings...)
			}
			if err := g.textDiagnostics(bakeFiles, diags); err != nil {
				return err
			}
			if err := writeSpecs(g, outs, files, res.Specs); err != nil {
				return err
			}
			views.Imported(g.streams.err, files, outs, len(res.Warnings), res.Emulators, res.Containerd)
			return reportUnplannable(g, res.Compiled, outs)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "a bake file (.hcl, .json, or a compose .yaml); again for files laid on it (default: bake's default files)")
	cmd.Flags().StringVarP(&out, "output", "o", "bakeplan.hcl", "where to write the spec; - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace the spec files when they exist")
	cmd.Flags().StringVar(&g.nativePlatform, "native-platform", "", "find the emulators a build needs as if on this platform (default: this machine's)")
	return cmd
}

// defaultBakeFiles are the bake files import reads without -f: the first
// of bake's default files here, and bake's override file.
func defaultBakeFiles() []string {
	var files []string
	for _, list := range [][]string{bakeDefaults, bakeOverrides} {
		for _, f := range list {
			if _, err := os.Stat(f); err == nil {
				files = append(files, f)
				break
			}
		}
	}
	if len(files) > 0 && slices.Contains(bakeOverrides, files[0]) {
		return nil // an override alone has nothing to lay itself on
	}
	return files
}

// specNames are the spec files the bake files are written to: out for the
// first; beside it, bakeplan.override.hcl for bake's override file and
// STEM.NAME.hcl for any other. Two files of one name in different forms
// (bake's own docker-bake.override.hcl and docker-bake.override.json) keep
// their form in the name of the second (bakeplan.override-json.hcl).
func specNames(out string, files []string) []string {
	outs := []string{out}
	dir, stem := ".", "bakeplan"
	if out != "-" {
		dir, stem = filepath.Dir(out), strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
	}
	taken := map[string]bool{out: true}
	for _, f := range files[1:] {
		ext := filepath.Ext(f)
		name := strings.TrimSuffix(filepath.Base(f), ext)
		name = strings.TrimPrefix(strings.TrimPrefix(name, "docker-bake"), ".")
		if name == "" {
			name = "more"
		}
		o := filepath.Join(dir, stem+"."+name+".hcl")
		if taken[o] {
			o = filepath.Join(dir, stem+"."+name+"-"+strings.TrimPrefix(ext, ".")+".hcl")
		}
		taken[o] = true
		outs = append(outs, o)
	}
	return outs
}

// checkOutputs refuses to replace a spec without --force, before anything
// is read.
func checkOutputs(outs []string, force bool) error {
	seen := map[string]bool{}
	for _, o := range outs {
		if o == "-" {
			continue
		}
		if seen[o] {
			return fmt.Errorf("two bake files would be written to %s; name them apart", o)
		}
		seen[o] = true
		if force {
			continue
		}
		if _, err := os.Stat(o); err == nil {
			return fmt.Errorf("%s exists; give --force to replace it, or -o another name", o)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("checking %s: %w", o, err)
		}
	}
	return nil
}

func readBakeFiles(files []string) ([]bakeimport.File, map[string]*hcl.File, error) {
	var in []bakeimport.File
	texts := map[string]*hcl.File{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the bake file: %w", err)
		}
		in = append(in, bakeimport.File{Name: f, Data: data})
		texts[f] = &hcl.File{Bytes: data}
	}
	return in, texts, nil
}

// importDestination is where the specs will be, as a Source: standard
// output counts as bakeplan.hcl here, where bake reads paths from.
func importDestination(outs []string) (project.Source, error) {
	paths := make([]string, len(outs))
	for i, o := range outs {
		paths[i] = o
		if o == "-" {
			paths[i] = "bakeplan.hcl"
		}
	}
	dst, err := project.OnDisk(paths[0])
	if err != nil {
		return project.Source{}, err
	}
	for _, p := range paths[1:] {
		o, err := project.OnDisk(p)
		if err != nil {
			return project.Source{}, err
		}
		dst.Overrides = append(dst.Overrides, project.Override{SpecPath: o.SpecPath, Name: o.Name, Path: o.Path})
	}
	return dst, nil
}

// writeSpecs writes each spec atomically, or all to standard output, each
// under a comment naming its bake file.
func writeSpecs(g *globals, outs, files []string, specs [][]byte) error {
	for i, spec := range specs {
		var err error
		if outs[0] == "-" {
			if len(specs) > 1 {
				fmt.Fprintf(g.streams.out, "# bakeplan: from %s\n", filepath.Base(files[i]))
			}
			_, err = g.streams.out.Write(spec)
		} else {
			err = atomicfile.Write(outs[i], spec, 0o644)
		}
		if err != nil {
			return fmt.Errorf("writing the spec: %w", err)
		}
	}
	return nil
}

// reportUnplannable shows the errors that stop the written specs from
// planning, and fails then.
func reportUnplannable(g *globals, c *project.Compiled, outs []string) error {
	if !c.Diags.HasErrors() {
		return nil
	}
	var errs hcl.Diagnostics
	for _, d := range c.Diags {
		if d.Severity == hcl.DiagError {
			errs = append(errs, d)
		}
	}
	if len(errs) > maxDiagnostics {
		errs = errs[:maxDiagnostics]
	}
	if err := views.WriteDiagnostics(g.streams.err, c.Files, errs, g.color(g.streams.err)); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return fmt.Errorf("%s was written, but it does not plan yet: fix the errors above", strings.Join(outs, ", "))
}
