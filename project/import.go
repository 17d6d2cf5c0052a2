package project

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
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

// Imported is bake files translated into specs, with what could not be
// carried over, and the specs compiled as they will be written.
type Imported struct {
	// Specs are the translated files, in the order of the bake files:
	// the spec, then the files bakeplan lays on it with -f.
	Specs    [][]byte
	Warnings hcl.Diagnostics // at the bake files' lines
	// Emulators are declared (in the first spec's host block) because a
	// RUN needs them.
	Emulators []string
	// Containerd is set when the spec declares Docker's containerd image
	// store, because a build loads several platforms into Docker.
	Containerd bool
	// Compiled is the written specs compiled with every target selected:
	// its diagnostics say what still stops them from planning.
	Compiled *Compiled
}

// Import translates bake files into specs to be written at out and its
// overrides, one for each bake file, in order (a Source on disk, whose
// directory the bake files' paths are read from), and declares in a host
// block the emulators the Dockerfile analysis finds a RUN needs: bake used
// QEMU for them without saying so.
func Import(ctx context.Context, files []bakeimport.File, out Source, in Inputs) (*Imported, hcl.Diagnostics, error) {
	if len(out.Overrides) != len(files)-1 {
		return nil, nil, fmt.Errorf("%d bake files need %d spec files, not %d", len(files), len(files), len(out.Overrides)+1)
	}
	env, err := composeEnv(in.Environ, filepath.Dir(filepath.FromSlash("/"+out.SpecPath)))
	if err != nil {
		return nil, nil, err
	}
	r, diags := bakeimport.Convert(ctx, files, env)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	in.All = true
	res := &Imported{Specs: r.Specs, Warnings: r.Warnings}
	withTexts := func(specs [][]byte) Source {
		src := out
		src.Overrides = slices.Clone(out.Overrides)
		// Never nil: an empty spec is not read from disk.
		src.Text = append([]byte{}, specs[0]...)
		for i := range src.Overrides {
			src.Overrides[i].Text = append([]byte{}, specs[i+1]...)
		}
		return src
	}
	if !slices.ContainsFunc(r.Specs, hasHost) {
		// Offer every emulator, then keep those a build uses. Every
		// target is checked whatever is selected, so when one fails (its
		// Dockerfile missing, say) nothing is found: the specs are
		// written without a host block, and the compile below shows what
		// stops them.
		trial := slices.Clone(r.Specs)
		trial[0] = append(slices.Clip(trial[0]), hostBlock(compiler.EmulatorArchs(), true)...)
		c, err := Compile(ctx, withTexts(trial), in)
		if err != nil {
			return nil, nil, err
		}
		res.Emulators, res.Containerd = hostNeeds(c.Plan)
		var notes []string
		if len(res.Emulators) > 0 {
			notes = append(notes, "# bakeplan: bake ran these platforms under QEMU without a word; RUN steps in their stages need an emulator on this machine.\n")
		}
		if res.Containerd {
			notes = append(notes, "# bakeplan: a build loads several platforms into Docker, which only its containerd image store holds (bake needs it too).\n")
		}
		if len(notes) > 0 {
			res.Specs[0] = append(append(append(res.Specs[0], '\n'), strings.Join(notes, "")...), hostBlock(res.Emulators, res.Containerd)...)
		}
	}
	c, err := Compile(ctx, withTexts(res.Specs), in)
	if err != nil {
		return nil, nil, err
	}
	res.Compiled = c
	return res, nil, nil
}

func hasHost(spec []byte) bool {
	return bytes.HasPrefix(spec, []byte("host {")) || bytes.Contains(spec, []byte("\nhost {"))
}

// hostNeeds are the emulators a plan's builds use, and whether a build
// loads several platforms into Docker.
func hostNeeds(p *plan.Plan) (emulators []string, containerd bool) {
	if p == nil {
		return nil, false
	}
	for _, st := range p.Steps {
		if st.Emulator != nil && len(st.Emulator.Platforms) > 0 {
			emulators = append(emulators, st.Emulator.Arch)
		}
		if b := st.Build; b != nil && len(b.Platforms) > 1 && slices.ContainsFunc(b.Outputs, func(o *plan.Output) bool { return o.Type == "docker" }) {
			containerd = true
		}
	}
	slices.Sort(emulators)
	return emulators, containerd
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
