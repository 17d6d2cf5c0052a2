// Package project carries out what the verbs share before anything is
// rendered: reading a spec (from disk or a git revision) with its variable
// files, compiling it, placing host probe problems at the spec lines that
// declared them, and holding a saved plan to the inputs it recorded.
// Commands parse flags, call it, and pass the result to a view.
package project

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/gitfs"
	"github.com/bakeplan/bakeplan/internal/lines"
	"github.com/bakeplan/bakeplan/internal/osfs"
	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// Source is where a spec and the files it points at are read from: the
// working tree or a git revision.
type Source struct {
	FS       fs.FS
	SpecPath string // within FS
	Name     string // for diagnostics
	Path     string // on disk, as given; "" for a git revision
	// Repo is the git commit a release's "git" epoch reads; for a spec on
	// disk it is found when needed.
	Repo compiler.Repo
	// Text is the spec's text when it is not on FS yet: bakeplan import
	// compiles what it is about to write.
	Text []byte
	// Overrides are further spec files laid on the first, in order, as
	// bake reads -f a.hcl -f b.hcl: blocks of the same name merge
	// attribute by attribute, the later file winning.
	Overrides []Override
}

// Override is one further spec file of a Source.
type Override struct {
	SpecPath string // within FS
	Name     string // for diagnostics
	Path     string // on disk, as given; "" for a git revision
	Text     []byte // as Source.Text
}

func overridePaths(src Source) []string {
	var out []string
	for _, o := range src.Overrides {
		if o.Path != "" {
			out = append(out, o.Path)
		}
	}
	return out
}

// WithOverrides is src with further spec files on disk, as given.
func (src Source) WithOverrides(paths []string) (Source, error) {
	for _, p := range paths {
		o, err := OnDisk(p)
		if err != nil {
			return Source{}, err
		}
		src.Overrides = append(src.Overrides, Override{SpecPath: o.SpecPath, Name: o.Name, Path: o.Path})
	}
	return src, nil
}

// OnDisk is the spec file at path, on disk.
func OnDisk(p string) (Source, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return Source{}, fmt.Errorf("locating the spec: %w", err)
	}
	return Source{FS: osfs.New("/"), SpecPath: strings.TrimPrefix(filepath.ToSlash(abs), "/"), Name: p, Path: filepath.ToSlash(p)}, nil
}

// Inputs are what a compilation takes besides the spec.
type Inputs struct {
	Vars           []string         // --var NAME=VALUE
	Sets           []string         // --set PATTERN.KEY=VALUE
	VarFiles       []string         // --var-file paths
	Recorded       []*plan.Variable // a saved plan's variables, when applying one
	Environ        []string
	BakeEnv        bool   // bare NAME environment variables set variables, as in bake
	NativePlatform string // "" for this machine's
	Select         []string
	All            bool // every target, as the lock file needs
	Locking        bool // for bakeplan lock: unpinned images are not refused
	Lint           bool // run the Dockerfile lint rules
	Strict         bool // Dockerfile lint findings are errors
	// WarnUnbuilt reports the build-level problems of targets the run
	// does not build as warnings (validate) instead of leaving them out.
	WarnUnbuilt bool
}

// Compiled is a compiled spec: the plan (nil on errors), every diagnostic,
// and the files the diagnostics point into, with sensitive values masked.
type Compiled struct {
	Plan    *plan.Plan
	Diags   hcl.Diagnostics
	Files   map[string]*hcl.File
	FS      fs.FS
	SpecDir string // within FS
	// Lock is the lock file the spec was compiled with, when it has one.
	Lock *lockfile.Lock

	files *contextFiles // made on first use (ContextFiles); copies share it
}

// specText is a spec file's text: text when given (not written yet),
// else the file read from fsys; errors name it as given.
func specText(fsys fs.FS, text []byte, p, name string) ([]byte, error) {
	if text != nil {
		return text, nil
	}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		// The FS names the path without its leading slash; say it as given.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("reading the spec %s: %w", name, err)
	}
	return data, nil
}

// Compile reads, parses and compiles src. Problems with the spec are
// diagnostics (Plan is nil when any is an error); the error is for what
// stops it otherwise: a file that cannot be read, an interrupt.
func Compile(ctx context.Context, src Source, in Inputs) (*Compiled, error) {
	parser := hclparse.NewParser()
	sp, diags, err := parseSpec(ctx, parser, src, in.Environ)
	if err != nil {
		return nil, err
	}
	// Decoded, the spec holds the expressions it needs; the files' trees
	// can go before the plan is built.
	for _, f := range parser.Files() {
		spec.ReleaseSyntax(f)
	}
	varFiles, unquoted, d, err := parseVarFiles(parser, in.VarFiles)
	if err != nil {
		return nil, err
	}
	diags = append(diags, d...)
	sens := &compiler.Sensitive{}
	c := &Compiled{FS: src.FS, SpecDir: path.Dir(src.SpecPath)}
	c.files = newContextFiles(c.FS, c.SpecDir)
	done := func() (*Compiled, error) {
		c.Files = sens.MaskFiles(parser.Files())
		if src.Path != "" {
			addDockerfiles(c.Files, diags)
		}
		if sp == nil || hasSensitive(sp) {
			for _, vf := range unquoted {
				delete(c.Files, vf)
			}
		}
		c.Diags = diags
		if diags.HasErrors() {
			// Errors from parsing or variable files also mean no plan,
			// even if the compiler found nothing more.
			c.Plan = nil
		}
		return c, nil
	}
	if sp == nil {
		return done()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	lock, lockRef, d, err := readLock(src, c.SpecDir)
	if err != nil {
		return nil, err
	}
	diags = append(diags, d...)
	c.Lock = lock
	if lockRef.data != nil {
		parser.AddFile(lockRef.name, &hcl.File{Bytes: lockRef.data})
	}
	opts, err := compilerOptions(ctx, src, in, sp)
	if err != nil {
		return nil, err
	}
	opts.VarFiles, opts.Lock, opts.LockFile, opts.Sensitive = varFiles, lock, lockRef.plan(), sens
	var index *contextIndex
	if src.Path != "" {
		index = openIndex(src.Path, in.Environ)
		opts.Index = index.index()
	}
	p, d := compiler.Compile(ctx, sp, opts)
	diags = append(diags, d...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	index.save()
	c.Plan = p
	return done()
}

// parseSpec parses the spec and lays its override files on it, in order.
// A spec on disk keeps its files' parsed pieces in the syntax cache.
func parseSpec(ctx context.Context, parser *hclparse.Parser, src Source, environ []string) (*spec.Spec, hcl.Diagnostics, error) {
	data, err := specText(src.FS, src.Text, src.SpecPath, src.Name)
	if err != nil {
		return nil, nil, err
	}
	var cache spec.SyntaxCache
	if src.Path != "" {
		if c := openSyntaxCache(src.Path, environ); c != nil {
			defer c.save()
			cache = c
		}
	}
	sp, diags := spec.ParseContext(ctx, parser, src.Name, data, cache)
	for _, o := range src.Overrides {
		data, err := specText(src.FS, o.Text, o.SpecPath, o.Name)
		if err != nil {
			return nil, nil, err
		}
		osp, d := spec.ParseContext(ctx, parser, o.Name, data, cache)
		diags = append(diags, d...)
		if sp != nil && osp != nil {
			sp = spec.Merge(sp, osp)
		}
	}
	return sp, diags, nil
}

// parseVarFiles parses the --var-file files. A file that does not parse
// may hold a sensitive value anywhere: those are returned as unquoted, so
// their lines are not quoted when the spec has any sensitive variable.
func parseVarFiles(parser *hclparse.Parser, files []string) (varFiles []hcl.Attributes, unquoted []string, diags hcl.Diagnostics, err error) {
	for _, vf := range files {
		b, err := os.ReadFile(vf)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading a variable file: %w", err)
		}
		attrs, d := spec.ParseVarFile(parser, vf, b)
		diags = append(diags, d...)
		varFiles = append(varFiles, attrs)
		if d.HasErrors() {
			unquoted = append(unquoted, vf)
		}
	}
	return varFiles, unquoted, diags, nil
}

// compilerOptions are the compiler's options for src and in: the spec's
// place, the inputs, the native platform, and the git work tree a
// release's "git" epoch reads.
func compilerOptions(ctx context.Context, src Source, in Inputs, sp *spec.Spec) (compiler.Options, error) {
	repo := src.Repo
	if repo == nil && src.Path != "" && sp.Release != nil {
		if r, ok := gitfs.WorkTree(ctx, filepath.Dir(src.Path)); ok {
			repo = r
		}
	}
	native := platforms.DefaultSpec()
	if in.NativePlatform != "" {
		p, err := platforms.Parse(in.NativePlatform)
		if err != nil {
			return compiler.Options{}, fmt.Errorf("--native-platform: %w", err)
		}
		native = p
	}
	return compiler.Options{
		FS:             src.FS,
		SpecDir:        path.Dir(src.SpecPath),
		SpecFile:       path.Base(src.SpecPath),
		SpecPath:       src.Path,
		OverridePaths:  overridePaths(src),
		Vars:           in.Vars,
		Sets:           in.Sets,
		Recorded:       in.Recorded,
		Environ:        in.Environ,
		BakeEnv:        in.BakeEnv,
		NativePlatform: native,
		Select:         in.Select,
		All:            in.All,
		Locking:        in.Locking,
		Lint:           in.Lint,
		Strict:         in.Strict,
		WarnUnbuilt:    in.WarnUnbuilt,
		Repo:           repo,
	}, nil
}

// lockRead is a lock file as read: how diagnostics name it, its bytes.
type lockRead struct {
	name string
	data []byte
}

func (l lockRead) plan() *plan.LockFile {
	if l.data == nil {
		return nil
	}
	return &plan.LockFile{File: lockfile.Name, Digest: inputs.Bytes(l.data)}
}

// readLock reads the lock file beside the spec, when there is one.
func readLock(src Source, specDir string) (*lockfile.Lock, lockRead, hcl.Diagnostics, error) {
	data, err := fs.ReadFile(src.FS, path.Join(specDir, lockfile.Name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, lockRead{}, nil, nil
	}
	if err != nil {
		return nil, lockRead{}, nil, fmt.Errorf("reading the lock file: %w", err)
	}
	ref := lockRead{name: path.Join(path.Dir(src.Name), lockfile.Name), data: data}
	l, diags := lockfile.Parse(ref.name, data)
	return l, ref, diags, nil
}

func hasSensitive(sp *spec.Spec) bool {
	for _, v := range sp.Variables {
		if v.Sensitive {
			return true
		}
	}
	return false
}

// Probe checks the host against c's plan (recording what it found in the
// plan's host steps) and returns what cannot be fixed as diagnostics at the
// spec lines that declared it.
func Probe(ctx context.Context, c *Compiled, specName string, opts host.Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, pr := range host.Probe(ctx, c.Plan, opts) {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: pr.Summary, Detail: pr.Detail}
		if st := c.Plan.Step(pr.Step); st != nil && st.DeclaredAt != nil {
			d.Subject = sourceRange(c.Files, specName, st.DeclaredAt)
		}
		diags = append(diags, d)
	}
	return diags
}

// sourceRange turns a plan range back into an HCL range with byte offsets.
// The diagnostic writer finds the block to name ("in registry "secure"")
// by byte offset, so a range without them named the file's first block.
func sourceRange(files map[string]*hcl.File, name string, r *plan.Range) *hcl.Range {
	rng := &hcl.Range{
		Filename: name,
		Start:    hcl.Pos{Line: r.Line, Column: r.Column},
		End:      hcl.Pos{Line: r.EndLine, Column: r.EndColumn},
	}
	if f := files[name]; f != nil {
		rng.Start.Byte = lines.Offset(f.Bytes, r.Line, r.Column)
		rng.End.Byte = lines.Offset(f.Bytes, r.EndLine, r.EndColumn)
	}
	return rng
}

// addDockerfiles adds the files diagnostics point into that are not HCL
// (Dockerfiles, for lint findings), so their lines are quoted too.
func addDockerfiles(files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Subject == nil || files[d.Subject.Filename] != nil {
			continue
		}
		if b, err := os.ReadFile(d.Subject.Filename); err == nil {
			files[d.Subject.Filename] = &hcl.File{Bytes: b}
		}
	}
}
