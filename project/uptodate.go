package project

import (
	"context"
	"errors"
	"io/fs"
	"path"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/uptodate"
)

// ContextFiles lists a build's main context as its digest counts it,
// path to content digest, reading fsys (where the spec's directory is
// specDir).
func ContextFiles(fsys fs.FS, specDir string) uptodate.Files {
	h := inputs.New(fsys)
	return func(st *plan.Step) (map[string]string, error) {
		b := st.Build
		if b == nil || b.Context == "" {
			return nil, errors.New("no context")
		}
		dockerfile := ""
		if b.Dockerfile != "" {
			dockerfile = path.Join(specDir, b.Dockerfile)
		}
		return h.ContextFiles(path.Join(specDir, b.Context), dockerfile)
	}
}

// CheckPublished asks the registries whether each pushed build of c's plan
// is up to date (and the local state whether each build with local outputs
// is), and records the answer (and, when it must run, why) in the plan.
// specDir is the spec's real directory on disk ("" for none).
func CheckPublished(ctx context.Context, c *Compiled, specDir string) error {
	if c.Plan == nil || c.FS == nil {
		return nil
	}
	return uptodate.Check(ctx, c.Plan, specDir, ContextFiles(c.FS, c.SpecDir))
}
