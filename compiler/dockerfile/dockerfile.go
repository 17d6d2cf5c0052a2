// Package dockerfile reads a Dockerfile the way BuildKit's frontend does,
// with BuildKit's own parser and instruction package, and works out what a
// build of it does without running it: which stages a target builds, on
// which platform each runs (a stage FROM --platform=$BUILDPLATFORM runs on
// the builder's own platform and cross-compiles), where its RUN steps are,
// and which build args, named contexts and images it uses.
package dockerfile

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bakeplan/bakeplan/internal/imageref"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// File is a parsed Dockerfile.
type File struct {
	Name     string
	Data     []byte
	Stages   []instructions.Stage
	MetaArgs []instructions.ArgCommand
	escape   rune
	// targetDependent: which stages a build runs, and where, may depend on
	// the target platform (a TARGET* ARG in a FROM, --platform or --from).
	targetDependent bool
	// refs are the ARG names the FROM, --platform and --from expressions
	// (and the meta ARGs' defaults) read: only their values can change
	// what a build runs.
	refs []string
	// skip is the file's "# check=skip=…" directive.
	skip skipRules
	// Syntax is the frontend image a "# syntax=" directive names (BuildKit
	// runs it in place of its built-in frontend), and its line.
	Syntax     string
	SyntaxLine int

	// mounts are the raw --mount values of each RUN, by its line: the
	// parsed RunCommand keeps only their from= (the rest is parsed once
	// expanded, at build time).
	mounts map[int][]string

	mu   sync.Mutex
	memo map[string]*Result
}

// TargetDependent says whether the stages a build runs, and the platforms
// they run on, may differ between two foreign target platforms. When not,
// one analysis serves every foreign platform of a build.
func (f *File) TargetDependent() bool { return f.targetDependent }

// Error is a problem at a line of a Dockerfile (0 when it has none).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Parse reads a Dockerfile; name is how errors name it.
func Parse(name string, data []byte) (*File, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, located(name, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, located(name, err)
	}
	if len(stages) == 0 {
		return nil, &Error{File: name, Msg: "no FROM instruction"}
	}
	f := &File{Name: name, Data: data, Stages: stages, MetaArgs: metaArgs, escape: res.EscapeToken, mounts: map[int][]string{}}
	for _, n := range res.AST.Children {
		if !strings.EqualFold(n.Value, "run") {
			continue
		}
		for _, flag := range n.Flags {
			if v, ok := strings.CutPrefix(flag, "--mount="); ok {
				f.mounts[n.StartLine] = append(f.mounts[n.StartLine], v)
			}
		}
	}
	f.refs, f.targetDependent = f.selectorArgs()
	f.skip = checkSkips(data)
	if ref, _, loc, ok := parser.DetectSyntax(data); ok {
		f.Syntax = ref
		f.SyntaxLine = line(loc)
	}
	f.memo = map[string]*Result{}
	return f, nil
}

// selectorArgs walks the expressions that choose stages, platforms and
// images (meta ARG defaults, FROM, --platform, COPY --from, RUN
// --mount=from) once, and returns the variables they read, with the meta
// ARGs, and whether any of them mentions a TARGET* ARG.
func (f *File) selectorArgs() (refs []string, targetDependent bool) {
	seen := map[string]bool{}
	scan := func(s string) {
		if strings.Contains(s, "TARGET") {
			targetDependent = true
		}
		for i := 0; i < len(s); i++ {
			if s[i] != '$' {
				continue
			}
			j := i + 1
			if j < len(s) && s[j] == '{' {
				j++
			}
			k := j
			for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9') {
				k++
			}
			if k > j {
				seen[s[j:k]] = true
			}
		}
	}
	for _, a := range f.MetaArgs {
		for _, kv := range a.Args {
			seen[kv.Key] = true // a meta ARG may be read anywhere below
			if kv.Value != nil {
				scan(*kv.Value)
			}
		}
	}
	for _, s := range f.Stages {
		scan(s.BaseName)
		scan(s.Platform)
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.CopyCommand:
				scan(c.From)
				for _, src := range c.SourcePaths {
					scan(src) // the files it reads
				}
			case *instructions.AddCommand:
				for _, src := range c.SourcePaths {
					scan(src)
				}
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					scan(m.From)
				}
				for _, m := range f.mounts[line(c.Location())] {
					scan(m) // the source it binds
				}
			}
		}
	}
	for k := range seen {
		refs = append(refs, k)
	}
	slices.Sort(refs)
	return refs, targetDependent
}

// memoKey identifies the builds that run the same stages the same way:
// the same target, contexts, platforms and values of the ARGs that choose
// them. Other args cannot change the result.
func (f *File) memoKey(b Build) string {
	static := b.Key
	if static == "" {
		static = f.BuildKey(b)
	}
	return platforms.Format(b.Platform) + "\x00" + platforms.Format(b.BuildPlatform) + "\x00" + static
}

// BuildKey is the part of a build's memo key that does not depend on its
// platforms: its target, the values of the ARGs that choose stages, and its
// named contexts. A caller that analyses one build for many platforms
// computes it once and sets Build.Key.
func (f *File) BuildKey(b Build) string {
	var sb strings.Builder
	sb.WriteString(b.Target)
	for _, k := range f.refs {
		if v, ok := b.Args[k]; ok {
			sb.WriteString("\x00" + k + "=" + v)
		}
	}
	var ctxs []string
	for k, ok := range b.Contexts {
		if ok {
			ctxs = append(ctxs, k)
		}
	}
	slices.Sort(ctxs)
	sb.WriteString("\x00" + strings.Join(ctxs, ","))
	return sb.String()
}

func located(name string, err error) error {
	var le *parser.LocationError
	line := 0
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
	}
	msg := err.Error()
	if le != nil {
		msg = le.Unwrap().Error()
	}
	return &Error{File: name, Line: line, Msg: msg}
}

// StageNames are the stages' names (or indexes for unnamed ones), in order.
func (f *File) StageNames() []string {
	var out []string
	for i, s := range f.Stages {
		if s.Name != "" {
			out = append(out, s.Name)
		} else {
			out = append(out, strconv.Itoa(i))
		}
	}
	return out
}

// Build is one build of a Dockerfile: a target stage for one platform.
type Build struct {
	Target        string            // the stage to build; "" for the last
	Args          map[string]string // build args
	Contexts      map[string]bool   // named contexts the build is given
	Platform      platforms.Platform
	BuildPlatform platforms.Platform
	// Key, when set, is File.BuildKey of this build, computed once.
	Key string
}

// Stage is a stage a build runs.
type Stage struct {
	Name     string // its name, or its index for an unnamed one
	Line     int    // of its FROM
	Platform platforms.Platform
	// Runs are the lines of its RUN instructions.
	Runs []int
}

// Result is what a build of a Dockerfile does.
type Result struct {
	// Stages are the stages built, in Dockerfile order.
	Stages []Stage
	// Args are the ARG names the build declares (meta ARGs and those of
	// its stages).
	Args map[string]bool
	// Contexts are the named contexts the build uses (FROM, COPY --from,
	// RUN --mount=from).
	Contexts map[string]bool
	// Images are the images the build pulls (FROM, COPY --from, RUN
	// --mount=from) after substitution, each with the platform it is
	// pulled for, sorted.
	Images []Image
	// Remote are the ADD sources fetched from a URL or a git repository,
	// in Dockerfile order.
	Remote []Remote
	// Reads are the paths of the main context the build reads, sorted, as
	// BuildKit's frontend follows them (relative, maybe with wildcards):
	// the sources of COPY and ADD without --from and of RUN
	// --mount=type=bind without from, in the stages it runs. Empty when it
	// reads none; nil when it reads the whole context, and ReadsAll says
	// where.
	Reads    []string
	ReadsAll string
}

// Remote is an ADD source BuildKit fetches itself.
type Remote struct {
	Source string // after substitution
	Line   int
	// Pinned says whether its content is fixed in the Dockerfile: an
	// --checksum, or a git commit rather than a branch or tag.
	Pinned bool
}

// Image is an image a build pulls for one platform.
type Image struct {
	Ref      string
	Platform string
	Line     int // of the instruction that names it
}

// TargetError is a target stage the Dockerfile lacks.
type TargetError struct {
	Target string
	Stages []string
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("there is no stage %q (stages: %s)", e.Target, strings.Join(e.Stages, ", "))
}

// Analyze works out what b does. The automatic platform ARGs
// (TARGETPLATFORM, BUILDARCH, ...) are set as the frontend sets them.
// Builds that differ only in args no stage-choosing expression reads share
// one analysis; callers must not change the Result.
func (f *File) Analyze(b Build) (*Result, error) {
	key := f.memoKey(b)
	f.mu.Lock()
	r, ok := f.memo[key]
	f.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := f.analyze(b)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.memo[key] = r
	f.mu.Unlock()
	return r, nil
}

func (f *File) analyze(b Build) (*Result, error) {
	a := f.newAnalysis(b)
	target := len(f.Stages) - 1
	if b.Target != "" {
		i, ok := a.byName[strings.ToLower(b.Target)]
		if !ok {
			return nil, &TargetError{Target: b.Target, Stages: f.StageNames()}
		}
		target = i
	}
	if err := a.visit(target, nil); err != nil {
		return nil, err
	}
	res := a.res
	if res.ReadsAll == "" {
		res.Reads = slices.Sorted(maps.Keys(a.reads))
		if res.Reads == nil {
			res.Reads = []string{}
		}
	}
	slices.SortFunc(res.Stages, func(a, b Stage) int { return a.Line - b.Line })
	slices.SortFunc(res.Images, func(a, b Image) int {
		if c := strings.Compare(a.Ref, b.Ref); c != 0 {
			return c
		}
		if c := strings.Compare(a.Platform, b.Platform); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	res.Images = slices.Compact(res.Images)
	return res, nil
}

// analysis is one build of a Dockerfile being followed from its target
// stage: the stages it builds, what they pull and which context paths
// they read.
type analysis struct {
	f            *File
	b            Build
	lex          *shell.Lex
	platformArgs map[string]string
	meta         map[string]string // meta ARGs: defaults, or the build's values
	fromEnv      shell.EnvGetter   // for FROM lines
	byName       map[string]int    // stage names, lower-cased

	res   *Result
	reads map[string]bool
	// envNames are the ENV names each stage declares (with those of the
	// stage it is built on): a path that reads one is not known before
	// the build, as the value could come from anywhere above.
	envNames []map[string]bool
	plats    []*platforms.Platform
	built    map[int]bool
}

func (f *File) newAnalysis(b Build) *analysis {
	a := &analysis{f: f, b: b, lex: shell.NewLex(f.escape), platformArgs: platformArgs(b.Platform, b.BuildPlatform),
		meta: map[string]string{}, byName: map[string]int{},
		res:   &Result{Args: map[string]bool{}, Contexts: map[string]bool{}},
		reads: map[string]bool{}, envNames: make([]map[string]bool, len(f.Stages)),
		plats: make([]*platforms.Platform, len(f.Stages)), built: map[int]bool{}}
	for _, arg := range f.MetaArgs {
		for _, kv := range arg.Args {
			a.res.Args[kv.Key] = true
			if v, ok := b.Args[kv.Key]; ok {
				a.meta[kv.Key] = v
			} else if kv.Value != nil {
				v, _, _ := a.lex.ProcessWord(*kv.Value, envOf(a.platformArgs, a.meta))
				a.meta[kv.Key] = v
			}
		}
	}
	a.fromEnv = envOf(a.platformArgs, a.meta)
	for i, st := range f.Stages {
		if st.Name != "" {
			a.byName[strings.ToLower(st.Name)] = i
		}
	}
	return a
}

// stageRef is the stage a FROM or --from names: by name, or by index.
func (a *analysis) stageRef(ref string) (int, bool) {
	if i, ok := a.byName[strings.ToLower(ref)]; ok {
		return i, true
	}
	if i, err := strconv.Atoi(ref); err == nil && i >= 0 && i < len(a.f.Stages) {
		return i, true
	}
	return 0, false
}

// read records a context path the build reads, or that it reads the whole
// context: a path only the build knows, or the context's root.
func (a *analysis) read(src string, loc []parser.Range, env shell.EnvGetter, names map[string]bool, what string) {
	if a.res.ReadsAll != "" {
		return
	}
	r, err := a.lex.ProcessWordWithMatches(src, env)
	known := err == nil && len(r.Unmatched) == 0
	for v := range r.Matched {
		known = known && !names[v]
	}
	if !known {
		a.res.ReadsAll = fmt.Sprintf("%s:%d: the %s %s names a path only the build knows", a.f.Name, line(loc), what, src)
		return
	}
	p := path.Join("/", filepath.ToSlash(r.Result))
	if p == "/" {
		a.res.ReadsAll = fmt.Sprintf("%s:%d: the %s %s is the whole context", a.f.Name, line(loc), what, orDot(src))
		return
	}
	a.reads[strings.TrimPrefix(p, "/")] = true
}

// visit follows stage i and, first, the stages it is built on or copies
// from; stack holds the stages being visited, to find cycles.
func (a *analysis) visit(i int, stack []int) error {
	if a.built[i] {
		return nil
	}
	f := a.f
	if slices.Contains(stack, i) {
		return &Error{File: f.Name, Line: line(f.Stages[i].Location), Msg: fmt.Sprintf("stage %s depends on itself", f.StageNames()[i])}
	}
	stack = append(stack, i)
	s := f.Stages[i]
	base, err := a.base(i, s, stack)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	if j, isStage := a.stageRef(base); isStage && j < i {
		maps.Copy(names, a.envNames[j])
	}
	a.envNames[i] = names
	st := Stage{Name: f.StageNames()[i], Line: line(s.Location), Platform: *a.plats[i]}
	if err := a.commands(i, s, &st, names, stack); err != nil {
		return err
	}
	a.built[i] = true
	a.res.Stages = append(a.res.Stages, st)
	return nil
}

// base reads stage i's FROM: its platform, and what it starts from (an
// earlier stage, visited first; a named context; scratch; or an image it
// pulls). It returns the base after substitution.
func (a *analysis) base(i int, s instructions.Stage, stack []int) (string, error) {
	f := a.f
	base, _, err := a.lex.ProcessWord(s.BaseName, a.fromEnv)
	if err != nil {
		return "", &Error{File: f.Name, Line: line(s.Location), Msg: err.Error()}
	}
	var plat *platforms.Platform
	if s.Platform != "" {
		ps, _, err := a.lex.ProcessWord(s.Platform, a.fromEnv)
		if err == nil {
			p, perr := platforms.Parse(ps)
			err = perr
			if err == nil {
				p = platforms.Normalize(p)
				plat = &p
			}
		}
		if err != nil {
			return "", &Error{File: f.Name, Line: line(s.Location), Msg: fmt.Sprintf("--platform=%s: %v", s.Platform, err)}
		}
	}
	pulled := ""
	switch j, isStage := a.stageRef(base); {
	case isStage && j < i:
		if err := a.visit(j, stack); err != nil {
			return "", err
		}
		if plat == nil {
			plat = a.plats[j]
		}
	case len(a.b.Contexts) > 0 && a.b.Contexts[imageref.ContextName(base)]:
		a.res.Contexts[imageref.ContextName(base)] = true
	case strings.EqualFold(base, "scratch"):
	default:
		if base == "" {
			return "", &Error{File: f.Name, Line: line(s.Location), Msg: fmt.Sprintf("FROM %s is empty after substitution", s.BaseName)}
		}
		if _, err := reference.ParseNormalizedNamed(base); err != nil {
			return "", &Error{File: f.Name, Line: line(s.Location), Msg: fmt.Sprintf("FROM %s: %q is neither a stage, a named context nor an image reference: %v", s.BaseName, base, err)}
		}
		pulled = base
	}
	if plat == nil {
		p := platforms.Normalize(a.b.Platform)
		plat = &p
	}
	a.plats[i] = plat
	if pulled != "" {
		a.res.Images = append(a.res.Images, Image{Ref: pulled, Platform: platforms.Format(*plat), Line: line(s.Location)})
	}
	return base, nil
}

// commands follows stage i's instructions: its ARGs and ENV names, the
// paths ADD, COPY and RUN bind mounts read, remote ADD sources, RUN steps,
// and the stages and images COPY --from and RUN --mount=from use.
func (a *analysis) commands(i int, s instructions.Stage, st *Stage, names map[string]bool, stack []int) error {
	// The stage's own ARGs, for COPY --from and RUN --mount=from.
	env := maps.Clone(a.meta)
	// The stage's environment, made again only after an ARG changes it.
	var stageEnv shell.EnvGetter
	envNow := func() shell.EnvGetter {
		if stageEnv == nil {
			stageEnv = envOf(a.platformArgs, env)
		}
		return stageEnv
	}
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				a.res.Args[kv.Key] = true
				if v, ok := a.b.Args[kv.Key]; ok {
					env[kv.Key] = v
				} else if kv.Value != nil {
					env[kv.Key] = *kv.Value
				}
			}
			stageEnv = nil
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				names[kv.Key] = true
			}
		case *instructions.AddCommand:
			for _, src := range c.SourcePaths {
				v, _, err := a.lex.ProcessWord(src, envNow())
				if err != nil {
					continue // reported by the lint
				}
				if r, ok := remote(v, c.Checksum); ok {
					r.Line = line(c.Location())
					a.res.Remote = append(a.res.Remote, r)
					continue
				}
				a.read(src, c.Location(), envNow(), names, "ADD source")
			}
		case *instructions.CopyCommand:
			if c.From == "" {
				for _, src := range c.SourcePaths {
					a.read(src, c.Location(), envNow(), names, "COPY source")
				}
				continue
			}
			if err := a.from(c.From, c.Location(), i, envNow(), stack); err != nil {
				return err
			}
		case *instructions.RunCommand:
			st.Runs = append(st.Runs, line(c.Location()))
			for _, m := range a.f.mounts[line(c.Location())] {
				if source, ok := bindsContext(m); ok {
					a.read(source, c.Location(), envNow(), names, "RUN --mount=type=bind source")
				}
			}
			for _, m := range instructions.GetMounts(c) {
				if m.From == "" {
					continue
				}
				if err := a.from(m.From, c.Location(), i, envNow(), stack); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// from follows a COPY --from or RUN --mount=from in stage i: a stage
// (built first), a named context, or an image.
func (a *analysis) from(ref string, loc []parser.Range, i int, env shell.EnvGetter, stack []int) error {
	f := a.f
	if ref == "" {
		return nil
	}
	v, _, err := a.lex.ProcessWord(ref, env)
	if err != nil {
		return &Error{File: f.Name, Line: line(loc), Msg: err.Error()}
	}
	if j, ok := a.stageRef(v); ok {
		if j == i {
			return &Error{File: f.Name, Line: line(loc), Msg: fmt.Sprintf("--from=%s names its own stage", ref)}
		}
		return a.visit(j, stack)
	}
	if len(a.b.Contexts) > 0 && a.b.Contexts[imageref.ContextName(v)] {
		a.res.Contexts[imageref.ContextName(v)] = true
		return nil
	}
	if _, err := reference.ParseNormalizedNamed(v); err != nil {
		return &Error{File: f.Name, Line: line(loc), Msg: fmt.Sprintf("--from=%s: %q is neither a stage, a named context nor an image reference", ref, v)}
	}
	// The frontend pulls a --from image for the target platform.
	a.res.Images = append(a.res.Images, Image{Ref: v, Platform: platforms.Format(platforms.Normalize(a.b.Platform)), Line: line(loc)})
	return nil
}

// bindsContext says whether a RUN --mount value (type=bind by default)
// mounts a path of the main context (no from=), and which. A value that
// does not parse is the frontend's to report; it reads nothing here.
func bindsContext(v string) (source string, ok bool) {
	fields, err := csv.NewReader(strings.NewReader(v)).Read()
	if err != nil {
		return "", false
	}
	typ := "bind"
	for _, field := range fields {
		key, value, _ := strings.Cut(field, "=")
		switch strings.ToLower(key) {
		case "type":
			typ = strings.ToLower(value)
		case "from":
			if value != "" {
				return "", false
			}
		case "source", "src":
			source = value
		}
	}
	return source, typ == "bind"
}

func orDot(s string) string {
	if s == "" {
		return "(empty: the whole context)"
	}
	return s
}

func line(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// platformArgs are the ARGs BuildKit sets for every build.
func platformArgs(target, build platforms.Platform) map[string]string {
	t, bp := platforms.Normalize(target), platforms.Normalize(build)
	return map[string]string{
		"TARGETPLATFORM": platforms.Format(t), "TARGETOS": t.OS, "TARGETARCH": t.Architecture, "TARGETVARIANT": t.Variant,
		"BUILDPLATFORM": platforms.Format(bp), "BUILDOS": bp.OS, "BUILDARCH": bp.Architecture, "BUILDVARIANT": bp.Variant,
	}
}

func envOf(maps ...map[string]string) shell.EnvGetter {
	var kv []string
	for _, m := range maps {
		for k, v := range m {
			kv = append(kv, k+"="+v)
		}
	}
	return shell.EnvsFromSlice(kv)
}

// CustomFrontend is the frontend a build runs instead of BuildKit's
// Dockerfile frontend: arg (a BUILDKIT_SYNTAX build arg) or else the file's
// "# syntax=" directive, when it names an image other than a Dockerfile
// frontend. Such a file is the frontend's own input (blubber's YAML, say),
// not a Dockerfile; "" when it is a Dockerfile. A Dockerfile frontend is
// docker/dockerfile[-upstream] wherever it is served from: a mirror
// (registry.example.com/docker/dockerfile:1.7) or a newer release reads
// Dockerfiles too, and its file is read for its images.
func CustomFrontend(arg string, data []byte) string {
	ref := arg
	if ref == "" {
		ref, _, _, _ = parser.DetectSyntax(data)
	}
	if ref == "" {
		return ""
	}
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	switch path.Base(reference.Path(n)) {
	case "dockerfile", "dockerfile-upstream":
		return ""
	}
	return ref
}

// remote says whether an ADD source is fetched by BuildKit (a URL or a git
// repository, as the frontend tells them apart) and whether its content
// is pinned: by --checksum, or for git by a commit.
func remote(src, checksum string) (Remote, bool) {
	if ref, isGit, err := dfgitutil.ParseGitRef(src); err == nil && isGit && !ref.IndistinguishableFromLocal {
		return Remote{Source: src, Pinned: checksum != "" || ref.Checksum != "" || isCommit(ref.Ref)}, true
	}
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return Remote{Source: src, Pinned: checksum != ""}, true
	}
	return Remote{}, false
}

// isCommit says whether a git ref is a full commit hash (SHA-1 or SHA-256).
func isCommit(ref string) bool {
	if len(ref) != 40 && len(ref) != 64 {
		return false
	}
	for _, c := range ref {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
