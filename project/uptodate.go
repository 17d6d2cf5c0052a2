package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/internal/gitfs"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/uptodate"
)

// contextFiles lists the files of builds' contexts as their digests count
// them, path to content digest, each context once: a run lists a build's
// context for plan's check and again for the record apply writes.
type contextFiles struct {
	h       *inputs.Hasher
	specDir string // within the FS

	mu   sync.Mutex
	memo map[string]listing
}

type listing struct {
	files map[string]string
	err   error
}

func newContextFiles(fsys fs.FS, specDir string) *contextFiles {
	return &contextFiles{h: inputs.New(fsys), specDir: specDir, memo: map[string]listing{}}
}

// input lists a context input of st: its own .dockerignore decides, or for
// the main context the Dockerfile's, as for its digest.
func (f *contextFiles) input(in *plan.Input, st *plan.Step) (map[string]string, error) {
	if in.Path == "" {
		return nil, errors.New("no files")
	}
	dockerfile := ""
	if in.Kind == "context" && st.Build.Dockerfile != "" {
		dockerfile = path.Join(f.specDir, st.Build.Dockerfile)
	}
	dir := path.Join(f.specDir, in.Path)
	list := f.h.ContextFiles
	if st.Build.Release {
		list = f.h.ReleaseContextFiles // sent with git's modes
	}
	var reads []string
	if in.Kind == "context" {
		reads = in.Reads // named contexts are digested whole
	}
	key := fmt.Sprintf("%s\x00%s\x00%t\x00%t\x00%s", dir, dockerfile, st.Build.Release, reads == nil, strings.Join(reads, "\x00"))
	f.mu.Lock()
	l, ok := f.memo[key]
	f.mu.Unlock()
	if !ok {
		l.files, l.err = list(dir, dockerfile, reads)
		f.mu.Lock()
		f.memo[key] = l
		f.mu.Unlock()
	}
	return l.files, l.err
}

// build lists st's main context.
func (f *contextFiles) build(st *plan.Step) (map[string]string, error) {
	if st.Build != nil {
		for _, in := range st.Build.Inputs {
			if in.Kind == "context" {
				return f.input(in, st)
			}
		}
	}
	return nil, errors.New("no context")
}

// InputFiles lists a context input of a build read from fsys (where the
// spec's directory is specDir), for naming the files that changed.
func InputFiles(fsys fs.FS, specDir string) func(in *plan.Input, st *plan.Step) (map[string]string, error) {
	return newContextFiles(fsys, specDir).input
}

// ContextFiles lists a build's main context, path to content digest, for
// its input record; each context is listed once per compilation.
func (c *Compiled) ContextFiles() uptodate.Files {
	if c.files == nil {
		c.files = newContextFiles(c.FS, c.SpecDir)
	}
	return c.files.build
}

// CheckPublished asks the registries whether each pushed build of c's plan
// is up to date (and the local state whether each build with local outputs
// is), and records the answer (and, when it must run, why) in the plan.
// specDir is the spec's real directory on disk ("" for none).
func CheckPublished(ctx context.Context, c *Compiled, specDir string) error {
	if c.Plan == nil || c.FS == nil {
		return nil
	}
	return uptodate.Check(ctx, c.Plan, specDir, c.ContextFiles())
}

// WorkTreeFiles lists a context input of a build read from the working
// tree fsys (the spec's directory specDir) of the repository at top, as
// InputFiles does, with each file no commit holds (untracked or ignored,
// and each directory holding only such files) marked diff.NotCommitted,
// for a diff against a revision to name apart.
func WorkTreeFiles(ctx context.Context, fsys fs.FS, specDir, top string) (func(in *plan.Input, st *plan.Step) (map[string]string, error), error) {
	notCommitted, err := gitfs.NotCommitted(ctx, top)
	if err != nil {
		return nil, err
	}
	list := InputFiles(fsys, specDir)
	topRel := strings.TrimPrefix(top, "/")
	return func(in *plan.Input, st *plan.Step) (map[string]string, error) {
		files, err := list(in, st)
		if err != nil {
			return nil, err
		}
		marked := make(map[string]string, len(files))
		var dirs []string
		for f, v := range files {
			if strings.HasSuffix(f, "/") {
				dirs = append(dirs, f)
			} else if rel, ok := strings.CutPrefix(path.Join(specDir, in.Path, f), topRel+"/"); ok && notCommitted(rel) {
				v = diff.NotCommitted + v
			}
			marked[f] = v
		}
		// git records no directories: one is not committed when no
		// committed file is under it.
		committed := map[string]bool{}
		for f, v := range marked {
			if strings.HasSuffix(f, "/") || strings.HasPrefix(v, diff.NotCommitted) {
				continue
			}
			for d := path.Dir(f); d != "." && !committed[d+"/"]; d = path.Dir(d) {
				committed[d+"/"] = true
			}
		}
		for _, d := range dirs {
			if !committed[d] {
				marked[d] = diff.NotCommitted + marked[d]
			}
		}
		return marked, nil
	}, nil
}
