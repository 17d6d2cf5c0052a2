package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/bakeimport"
	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/compose-spec/compose-go/v2/dotenv"

	"github.com/hashicorp/hcl/v2"
)

// Imported is a bake file translated into a spec, with what could not be
// carried over, and the spec compiled as it will be written.
type Imported struct {
	Spec      []byte
	Warnings  hcl.Diagnostics // at the bake files' lines
	Emulators []string        // declared because a RUN needs them
	// Containerd is set when the spec declares Docker's containerd image
	// store, because a build loads several platforms into Docker.
	Containerd bool
	// Compiled is the written spec compiled with every target selected:
	// its diagnostics say what still stops it from planning.
	Compiled *Compiled
}

// Import translates bake files into a spec to be written at out (a Source
// on disk, whose directory the bake files' paths are read from), and
// declares in a host block the emulators the Dockerfile analysis finds a
// RUN needs: bake used QEMU for them without saying so.
func Import(ctx context.Context, files []bakeimport.File, out Source, in Inputs) (*Imported, hcl.Diagnostics, error) {
	env, err := composeEnv(in.Environ, filepath.Dir(filepath.FromSlash("/"+out.SpecPath)))
	if err != nil {
		return nil, nil, err
	}
	r, diags := bakeimport.Convert(ctx, files, env)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	in.All = true
	res := &Imported{Spec: r.Spec, Warnings: r.Warnings}
	if !strings.Contains(string(r.Spec), "\nhost {") && !strings.HasPrefix(string(r.Spec), "host {") {
		// Offer every emulator, then keep those a build uses.
		trial := out
		trial.Text = append(slices.Clip(r.Spec), hostBlock(compiler.EmulatorArchs(), true)...)
		// Every target is checked whatever is selected, so when one
		// fails (its Dockerfile missing, say) nothing is found: the spec
		// is written without a host block, and the compile of it below
		// shows what stops it.
		c, err := Compile(ctx, trial, in)
		if err != nil {
			return nil, nil, err
		}
		emulators := map[string]bool{}
		if c.Plan != nil {
			for _, st := range c.Plan.Steps {
				if st.Emulator != nil && len(st.Emulator.Platforms) > 0 {
					emulators[st.Emulator.Arch] = true
				}
				if b := st.Build; b != nil && len(b.Platforms) > 1 && slices.ContainsFunc(b.Outputs, func(o *plan.Output) bool { return o.Type == "docker" }) {
					res.Containerd = true
				}
			}
		}
		res.Emulators = slices.Sorted(maps.Keys(emulators))
		var notes []string
		if len(res.Emulators) > 0 {
			notes = append(notes, "# bakeplan: bake ran these platforms under QEMU without a word; RUN steps in their stages need an emulator on this machine.\n")
		}
		if res.Containerd {
			notes = append(notes, "# bakeplan: a build loads several platforms into Docker, which only its containerd image store holds (bake needs it too).\n")
		}
		if len(notes) > 0 {
			res.Spec = append(append(append(res.Spec, '\n'), strings.Join(notes, "")...), hostBlock(res.Emulators, res.Containerd)...)
		}
	}
	final := out
	final.Text = append([]byte{}, res.Spec...) // never nil: an empty spec is not read from disk
	c, err := Compile(ctx, final, in)
	if err != nil {
		return nil, nil, err
	}
	res.Compiled = c
	return res, nil, nil
}

func hostBlock(archs []string, containerd bool) string {
	var b strings.Builder
	b.WriteString("host {\n")
	if containerd {
		b.WriteString("  docker {\n    image_store = \"containerd\"\n  }\n")
	}
	if len(archs) > 0 {
		quoted := make([]string, len(archs))
		for i, a := range archs {
			quoted[i] = fmt.Sprintf("%q", a)
		}
		b.WriteString("  emulators = [" + strings.Join(quoted, ", ") + "]\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// composeEnv is what compose files are interpolated from, as bake does it:
// the environment, and under it the .env file of the directory bake runs
// in (the spec's).
func composeEnv(environ []string, dir string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, ".env"))
	if errors.Is(err, fs.ErrNotExist) {
		return env, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading .env: %w", err)
	}
	dot, err := dotenv.UnmarshalBytesWithLookup(data, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		return nil, fmt.Errorf(".env: %w", err)
	}
	for k, v := range dot {
		if _, set := env[k]; !set {
			env[k] = v
		}
	}
	return env, nil
}
