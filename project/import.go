package project

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/bakeimport"
	"github.com/bakeplan/bakeplan/compiler"
	"github.com/hashicorp/hcl/v2"
)

// Imported is a bake file translated into a spec, with what could not be
// carried over, and the spec compiled as it will be written.
type Imported struct {
	Spec      []byte
	Warnings  hcl.Diagnostics // at the bake files' lines
	Emulators []string        // declared because a RUN needs them
	// Compiled is the written spec compiled with every target selected:
	// its diagnostics say what still stops it from planning.
	Compiled *Compiled
}

// Import translates bake files into a spec to be written at out (a Source
// on disk, whose directory the bake files' paths are read from), and
// declares in a host block the emulators the Dockerfile analysis finds a
// RUN needs: bake used QEMU for them without saying so.
func Import(ctx context.Context, files []bakeimport.File, out Source, in Inputs) (*Imported, hcl.Diagnostics, error) {
	r, diags := bakeimport.Convert(ctx, files)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	in.All = true
	res := &Imported{Spec: r.Spec, Warnings: r.Warnings}
	if !strings.Contains(string(r.Spec), "\nhost {") && !strings.HasPrefix(string(r.Spec), "host {") {
		// Offer every emulator, then keep those a build uses.
		trial := out
		trial.Text = append(slices.Clip(r.Spec), hostBlock(compiler.EmulatorArchs())...)
		c, err := Compile(ctx, trial, in)
		if err != nil {
			return nil, nil, err
		}
		if c.Plan != nil {
			for _, st := range c.Plan.Steps {
				if st.Emulator != nil && len(st.Emulator.Platforms) > 0 {
					res.Emulators = append(res.Emulators, st.Emulator.Arch)
				}
			}
		}
		if len(res.Emulators) > 0 {
			res.Spec = append(append(res.Spec, "\n# bakeplan: bake ran these platforms under QEMU without a word; RUN steps in their stages need an emulator on this machine.\n"...), hostBlock(res.Emulators)...)
		}
	}
	final := out
	final.Text = res.Spec
	c, err := Compile(ctx, final, in)
	if err != nil {
		return nil, nil, err
	}
	res.Compiled = c
	return res, nil, nil
}

func hostBlock(archs []string) string {
	quoted := make([]string, len(archs))
	for i, a := range archs {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return "host {\n  emulators = [" + strings.Join(quoted, ", ") + "]\n}\n"
}
