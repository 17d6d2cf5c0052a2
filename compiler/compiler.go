package compiler

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/bakeplan/bakeplan/compiler/inputs"
	"github.com/bakeplan/bakeplan/internal/environ"
	"github.com/bakeplan/bakeplan/internal/realpath"
	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Options are the inputs of a compilation besides the spec itself.
type Options struct {
	// FS holds the spec's directory and everything the spec points at.
	// Paths in FS are slash-separated and unrooted (fs.ValidPath).
	FS fs.FS
	// Index, when set, keeps context digests between runs: a context
	// whose files are unchanged is not read again (see inputs.Index).
	Index *inputs.Index
	// SpecDir is the spec's directory within FS; relative paths in the spec
	// are resolved against it, and the plan records paths relative to it.
	SpecDir string
	// SpecFile is the spec's path relative to SpecDir, recorded in the plan.
	SpecFile string
	// SpecPath is the spec's path as the user gave it, recorded in the
	// plan for applying it later; may be empty. OverridePaths are the
	// further spec files merged into it, likewise.
	SpecPath      string
	OverridePaths []string

	// Vars are NAME=VALUE assignments from the command line, in order.
	Vars []string
	// Recorded are the variables of a saved plan being applied: each
	// non-sensitive one set there takes its recorded value and source,
	// whatever the environment says now. Sensitive ones are never
	// recorded; they come from Vars or the environment.
	Recorded []*plan.Variable
	// VarFiles are parsed variable files (spec.ParseVarFile), in order.
	VarFiles []hcl.Attributes
	// Environ is the process environment as KEY=VALUE; BAKEPLAN_VAR_NAME
	// entries set variables.
	Environ []string
	// BakeEnv also sets a variable from a bare NAME in Environ, in bake's
	// forms (CSV for lists, KEY:VALUE pairs for maps), below
	// BAKEPLAN_VAR_NAME: --env-vars bake.
	BakeEnv bool

	// NativePlatform is the platform of this machine; local builders that
	// declare no platforms serve it natively.
	NativePlatform ocispecs.Platform
	// Now is the clock behind timestamp(); nil means SOURCE_DATE_EPOCH from
	// Environ when set, else the current time.
	Now func() time.Time

	// Lint runs BuildKit's Dockerfile lint rules (validate does; plan and
	// apply do not, as docker build does not run --check's rules either:
	// they cost half a millisecond per Dockerfile).
	Lint bool
	// Strict makes Dockerfile lint findings errors (validate --strict).
	Strict bool

	// Repo is the git repository holding the spec, for a release whose
	// epoch is "git"; nil when there is none.
	Repo Repo

	// Lock is the lock file's pins, when the spec has one, and LockFile
	// identifies it in the plan.
	Lock     *lockfile.Lock
	LockFile *plan.LockFile

	// Sensitive, when set, receives the sensitive values the compilation
	// saw, for a caller that prints source snippets.
	Sensitive *Sensitive

	// Select names the targets and groups to plan; empty means the group
	// "default" when the spec has one, else every target. Everything is
	// checked either way.
	Select []string
	// Locking plans for bakeplan lock, which pins the images a release
	// refuses unpinned and fills the gaps of pins that lack a platform:
	// neither is reported.
	Locking bool
	// Sets are --set PATTERN.KEY=VALUE overrides, applied to the matching
	// targets as evaluated, in order, as bake's --set.
	Sets []string
	// All plans every target that is not abstract, whatever the default
	// group holds: the lock file covers every build of the spec.
	All bool
	// WarnUnbuilt reports the build-level problems of targets the run does
	// not build as warnings (validate), instead of leaving them out.
	WarnUnbuilt bool
	// sequentialEval evaluates targets one by one, for tests to compare
	// with evaluating independent ones on every core.
	sequentialEval bool
}

// compilation is the state of one Compile call.
type compilation struct {
	// reached are the targets this run builds and what they need (set by
	// selection); nil until then.
	reached map[*instance]bool
	// abstract are the templates: targets only inherited (abstractTargets).
	abstract map[*instance]bool
	// onlyMatchers caches platforms.Only per builder platform
	// (runsItself).
	onlyMatchers   sync.Map
	ctx            context.Context
	opts           Options
	spec           *spec.Spec
	native         string             // normalised NativePlatform, formatted
	nativePlatform platforms.Platform // and parsed

	funcs  map[string]function.Function
	varObj cty.Value
	vars   []*plan.Variable
	locObj cty.Value

	host       *hostDecl
	release    *releaseDecl // nil without a release block
	overrides  []*override  // --set
	builders   []*builderDecl
	registries []*registryDecl

	targets []*instance          // every evaluated target, in evaluation order
	byName  map[string]*instance // instance name -> instance
	matrix  map[string][]*instance
	groups  map[string]*spec.Group

	digests       *digestCache
	resolver      *realpath.Cache
	stats         sync.Map // path → stat result, see stat
	dockerfilesMu sync.Mutex
	dockerfiles   map[string]*parsedDockerfile
	platformMu    sync.Mutex
	platformCache map[string]parsedPlatform
	refMu         sync.Mutex
	refCache      map[string]normalRef
	// attrRefs holds the references in each target block's attributes,
	// walked once (walkTargets): ordering evaluation reads them, and
	// checking names reads them again.
	attrRefs map[*spec.Target]map[string][]hcl.Traversal
	plainCtx *hcl.EvalContext // for targets without target references or matrix values
}

// Compile checks s and returns its plan. Diagnostics may hold warnings even
// when the plan is returned; on any error the plan is nil.
//
// Compile stops early when ctx is done (Ctrl-C): it then returns no plan
// and an error diagnostic that says so.
func Compile(ctx context.Context, s *spec.Spec, opts Options) (*plan.Plan, hcl.Diagnostics) {
	c, p, diags := compile(ctx, s, opts)
	if err := ctx.Err(); err != nil {
		p = nil
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Interrupted",
			Detail:   fmt.Sprintf("The compilation was stopped (%v) before it finished.", err),
		})
	}
	// No message may carry a sensitive value: a validation's own message,
	// a conversion error quoting its input, a function's complaint.
	c.opts.Sensitive.RedactDiagnostics(diags)
	c.explainUnknowns(diags)
	return p, diags
}

func compile(ctx context.Context, s *spec.Spec, opts Options) (*compilation, *plan.Plan, hcl.Diagnostics) {
	c := &compilation{
		ctx:            ctx,
		opts:           opts,
		spec:           s,
		native:         platforms.Format(platforms.Normalize(opts.NativePlatform)),
		nativePlatform: platforms.Normalize(opts.NativePlatform),
		byName:         map[string]*instance{},
		matrix:         map[string][]*instance{},
		groups:         map[string]*spec.Group{},
		digests:        newDigestCache(ctx, opts.FS, opts.Index),

		resolver:    realpath.NewCache(opts.FS),
		dockerfiles: map[string]*parsedDockerfile{},

		platformCache: map[string]parsedPlatform{},
	}
	if c.opts.Sensitive == nil {
		c.opts.Sensitive = &Sensitive{}
	}
	now := opts.Now
	if now == nil {
		now = clockFromEnv(opts.Environ)
	}
	// In a release, timestamp() is the epoch: nothing in the spec may
	// depend on the day it is built.
	c.funcs = stdFunctions(func() time.Time {
		if c.release != nil {
			return time.Unix(c.release.epoch, 0).UTC()
		}
		return now()
	})
	home, _ := environ.Lookup(opts.Environ, "HOME")
	maps.Copy(c.funcs, bakeOwnFunctions(home))
	// bake's BAKE_LOCAL_PLATFORM, which import writes as local_platform():
	// the platform of the machine that plans (--native-platform).
	c.funcs["local_platform"] = function.New(&function.Spec{
		Type: function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) { return cty.StringVal(c.native), nil },
	})

	overrides, diags := parseOverrides(opts.Sets)
	c.overrides = overrides
	diags = append(diags, c.evalRelease()...)
	diags = append(diags, c.resolveVariables()...)
	if diags.HasErrors() {
		// Everything below refers to variables; stop before a cascade.
		return c, nil, diags
	}
	diags = append(diags, c.userFunctions(s.Functions)...)
	// A value that fails its validation is still a value of the right type,
	// so checking goes on and reports the targets' problems too.
	diags = append(diags, c.validateVariables()...)
	localDiags := c.evalLocals()
	diags = append(diags, localDiags...)
	if localDiags.HasErrors() {
		return c, nil, diags
	}
	diags = append(diags, c.evalHost()...)
	if ctx.Err() != nil {
		return c, nil, diags
	}
	targetDiags := c.evalTargets()
	diags = append(diags, targetDiags...)
	if targetDiags.HasErrors() || ctx.Err() != nil {
		return c, nil, diags
	}
	c.releaseSyntax()
	p, d := c.assemble()
	diags = append(diags, d...)
	if diags.HasErrors() {
		return c, nil, diags
	}
	return c, p, diags
}

// clockFromEnv honours SOURCE_DATE_EPOCH, the reproducible-builds convention.
func clockFromEnv(env []string) func() time.Time {
	if v, ok := environ.Lookup(env, "SOURCE_DATE_EPOCH"); ok {
		if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
			t := time.Unix(sec, 0).UTC()
			return func() time.Time { return t }
		}
	}
	return time.Now
}

func (c *compilation) evalCtx(vars map[string]cty.Value) *hcl.EvalContext {
	all := map[string]cty.Value{"var": c.varObj, "local": c.locObj}
	for k, v := range vars {
		all[k] = v
	}
	return &hcl.EvalContext{Variables: all, Functions: c.funcs}
}
