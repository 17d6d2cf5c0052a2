package project

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/internal/realpath"
	"github.com/bakeplan/bakeplan/plan"
)

// Encode is the plan as JSON, for --json and -out. The syntax trees are
// needed no more once diagnostics are shown, so they are let go first:
// collected on another core while the encoder runs, their memory holds a
// large plan's JSON instead of growing the process by its size.
func (p *Planned) Encode() (plan.Encoding, error) {
	p.Files = nil
	go runtime.GC()
	return plan.Encode(p.Plan())
}

// Save writes the plan as JSON to out, atomically, and returns the
// encoding. A file inside a build context is refused first (CheckSaveTo),
// unless the plan was requested with it as SaveTo, which checked it then.
func (p *Planned) Save(out string) (plan.Encoding, error) {
	if out != p.savable {
		if err := CheckSaveTo(p.Compiled, out); err != nil {
			return plan.Encoding{}, err
		}
	}
	enc, err := p.Encode()
	if err != nil {
		return enc, err
	}
	if err := atomicfile.Write(out, enc.Bytes(), 0o644); err != nil {
		return enc, fmt.Errorf("saving the plan: %w", err)
	}
	return enc, nil
}

// CheckSaveTo refuses a plan file that a build context would include:
// writing it would change that context's digest, and the plan would be
// stale the moment it exists. It writes nothing, so an existing file there
// is left as it was.
func CheckSaveTo(c *Compiled, out string) error {
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
