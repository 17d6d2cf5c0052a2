package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/bakeplan/bakeplan/views"
	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
)

type streams struct {
	in       io.Reader
	out, err io.Writer
}

// errReported means the command already printed why it failed.
var errReported = errors.New("reported")

// globals are the options every verb shares.
type globals struct {
	file           string
	overrides      []string // further spec files (-f again)
	sets           []string // --set
	bakeEnv        bool     // --env-vars bake
	filesSet       bool     // -f was given
	vars           []string
	varFiles       []string
	nativePlatform string
	noColor        bool
	dockerConfig   string
	dockerRestart  string
	registryWrites bool
	// allowUnresolved builds images no registry could resolve instead of
	// failing the plan.
	allowUnresolved bool

	streams streams
	environ []string

	// json is set by a verb's --json: errors go to stdout as a
	// views.Result instead of text on stderr; warnings stay on stderr, so
	// stdout holds one JSON document (validate's result carries them).
	json        bool
	targets     []string // --target
	strict      bool     // validate --strict
	lint        bool     // validate lints Dockerfiles
	warnUnbuilt bool     // validate reports unbuilt targets' problems as warnings
}

func run(ctx context.Context, args []string, s streams, environ []string) int {
	g := &globals{streams: s, environ: environ}
	ctx, err := registryTimeouts(ctx, environ)
	if err != nil {
		fmt.Fprintf(s.err, "Error: %v\n", err)
		return 1
	}
	root := &cobra.Command{
		Use:   "bakeplan",
		Short: "Compile a multi-platform build spec into a checked plan",
		Long: `bakeplan compiles bakeplan.hcl (host prerequisites and multi-platform image
targets) into a plan in which every reference, platform, tag, path and host
requirement is checked before anything builds.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate(versionText() + "\n")
	root.PersistentFlags().BoolVar(&g.noColor, "no-color", false, "never colour output (NO_COLOR in the environment does the same)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage.", err, cmd.CommandPath())
	})

	verbs := []*cobra.Command{newValidateCmd(g), newPlanCmd(g), newGraphCmd(g), newApplyCmd(g), newDiffCmd(g), newVerifyCmd(g)}
	for _, v := range verbs {
		g.specFlags(v)
	}
	root.AddCommand(verbs...)
	root.AddCommand(newLockCmd(g), newHostCmd(g), newImportCmd(g), newVersionCmd(g))
	root.SetArgs(terraformFlags(args))
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	if err := root.ExecuteContext(ctx); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		// Diagnostics print the HCL way (or as JSON), whichever verb
		// stopped at them.
		var d *project.Diagnostics
		if errors.As(err, &d) {
			if rerr := g.reportFiles(d.Files, d.Diags); rerr != nil && !errors.Is(rerr, errReported) {
				fmt.Fprintf(s.err, "Error: %s\n", views.Message(rerr.Error()))
			}
			return 1
		}
		if !errors.Is(err, errReported) && g.json {
			_ = views.WriteJSON(s.out, views.ErrorResult(err))
			return 1
		}
		if !errors.Is(err, errReported) {
			msg := err.Error()
			if strings.HasPrefix(msg, "unknown command") && !strings.Contains(msg, "for usage.") {
				msg = strings.TrimRight(msg, "\n") + "\nRun 'bakeplan --help' for usage."
			}
			fmt.Fprintf(s.err, "Error: %s\n", views.Message(msg))
		}
		return 1
	}
	return 0
}

// registryTimeouts applies BAKEPLAN_REGISTRY_TIMEOUT (a Go duration such
// as 30s): how long a registry may take to answer, or pause in the middle
// of an answer, before the request fails.
func registryTimeouts(ctx context.Context, environ []string) (context.Context, error) {
	for _, kv := range environ {
		v, ok := strings.CutPrefix(kv, "BAKEPLAN_REGISTRY_TIMEOUT=")
		if !ok || v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return ctx, fmt.Errorf("BAKEPLAN_REGISTRY_TIMEOUT=%s: want a duration such as 30s", escape.Terminal(v))
		}
		t := registry.DefaultTimeouts()
		t.Header, t.Idle = d, d
		ctx = registry.WithTimeouts(ctx, t)
	}
	return ctx, nil
}

// exitCode ends a command successfully with another status than 0, for
// --detailed-exitcode.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// specFlags are the flags of every verb that reads the spec.
func (g *globals) specFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	g.file = "bakeplan.hcl"
	files := &specFiles{g: g}
	f.VarP(files, "file", "f", "the spec file (.hcl, or .json for HCL's JSON syntax); again for files laid on it, as bake's -f (default: bakeplan.hcl, and bakeplan.override.hcl when it exists)")
	f.StringArrayVar(&g.vars, "var", nil, "set a variable, NAME=VALUE (repeatable; wins over files and the environment)")
	f.StringArrayVar(&g.varFiles, "var-file", nil, "read variables from an HCL or JSON file (repeatable)")
	f.Var(&envVars{g: g}, "env-vars", "which environment variables set spec variables: bakeplan (BAKEPLAN_VAR_NAME) or bake (also a bare NAME, in bake's forms: CSV lists, KEY:VALUE maps)")
	f.StringArrayVar(&g.sets, "set", nil, "override a target attribute as bake's --set does: PATTERN.KEY=VALUE, such as '*.platforms=linux/arm64', app.args.VERSION=1, app.tags+=REF (repeatable)")
	f.StringVar(&g.nativePlatform, "native-platform", "", "plan as if on this platform (default: this machine's), so plans made on different machines agree")
	_ = cmd.RegisterFlagCompletionFunc("file", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"hcl", "json"}, cobra.ShellCompDirectiveFilterFileExt
	})
}

// specFiles is -f, given once or more: the spec, then files laid on it
// in order, as bake merges -f a.hcl -f b.hcl. Without -f, the spec is
// bakeplan.hcl, with bakeplan.override.hcl on it when that exists (bake's
// docker-bake.override.hcl).
type specFiles struct {
	g   *globals
	set bool
}

func (f *specFiles) String() string {
	if f.g == nil {
		return ""
	}
	return strings.Join(append([]string{f.g.file}, f.g.overrides...), ",")
}

func (f *specFiles) Set(v string) error {
	if !f.set {
		f.g.file, f.g.overrides, f.set, f.g.filesSet = v, nil, true, true
		return nil
	}
	// Completion parses the flags again: the same list, in order.
	if v == f.g.file && len(f.g.overrides) == 0 || slices.Contains(f.g.overrides, v) {
		return nil
	}
	f.g.overrides = append(f.g.overrides, v)
	return nil
}

func (f *specFiles) Type() string { return "string" }

// envVars is --env-vars: bakeplan or bake.
type envVars struct{ g *globals }

func (e *envVars) String() string {
	if e.g != nil && e.g.bakeEnv {
		return "bake"
	}
	return "bakeplan"
}

func (e *envVars) Set(v string) error {
	switch v {
	case "bakeplan":
		e.g.bakeEnv = false
	case "bake":
		e.g.bakeEnv = true
	default:
		return fmt.Errorf("is bakeplan or bake, not %q", v)
	}
	return nil
}

func (e *envVars) Type() string { return "string" }

// defaultOverride is the override file read beside the default spec.
const defaultOverride = "bakeplan.override.hcl"

// source is the spec the command line names, with its overrides.
func (g *globals) source() (project.Source, error) {
	src, err := project.OnDisk(g.file)
	if err != nil {
		return project.Source{}, err
	}
	overrides := g.overrides
	if !g.filesSet {
		if _, err := os.Stat(defaultOverride); err == nil {
			overrides = []string{defaultOverride}
		}
	}
	return src.WithOverrides(overrides)
}

// targetFlag adds --target, which selects targets and groups the same way
// in every verb (plan, graph and apply take them as arguments too).
func (g *globals) targetFlag(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&g.targets, "target", nil, "plan only these targets or groups and what they need (repeatable)")
	_ = cmd.RegisterFlagCompletionFunc("target", g.completeTargets)
}

// selection is the targets and groups a command names: --target, then its
// arguments.
func (g *globals) selection(args []string) []string {
	return append(slices.Clone(g.targets), args...)
}

// probeFlags are the flags of the verbs that probe and fix the host.
func (g *globals) probeFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&g.allowUnresolved, "allow-unresolved", false, "plan builds whose images (FROM, COPY --from, the syntax frontend, ...) no registry could resolve to a digest, instead of failing; such builds are never up to date")
	f.BoolVar(&g.registryWrites, "probe-registry-writes", false, "also check that each declared registry stores OCI image indexes, by writing an empty one to bakeplan-probe and deleting it")
	f.StringVar(&g.dockerConfig, "docker-config", "", "the Docker Engine's daemon.json, for the image store switch (default: the spec's, else /etc/docker/daemon.json)")
	f.StringVar(&g.dockerRestart, "docker-restart-command", "", "how to restart the Docker Engine after changing daemon.json (default: the spec's, else systemctl restart docker)")
}

// color says whether to colour what goes to w: never with --no-color or
// NO_COLOR (https://no-color.org), else only on a terminal.
func (g *globals) color(w io.Writer) bool {
	if g.noColor {
		return false
	}
	for _, kv := range g.environ {
		if v, ok := strings.CutPrefix(kv, "NO_COLOR="); ok && v != "" {
			return false
		}
	}
	return isTerminal(w)
}

// version is the module version bakeplan was built from, or "devel" for a
// build from a checkout.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}

// versionText is version with the VCS revision and toolchain, as `bakeplan
// version` prints it.
func versionText() string {
	s := "bakeplan " + version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, modified := "", false
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.modified":
				modified = kv.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			s += " (revision " + rev
			if modified {
				s += ", modified"
			}
			s += ")"
		}
		s += " " + bi.GoVersion
	}
	return s + " " + goruntime.GOOS + "/" + goruntime.GOARCH
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print bakeplan's version, revision and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(g.streams.out, versionText())
			return err
		},
	}
}

// terraformFlags accepts Terraform's single-dash -out, which users type by
// habit and pflag would read as -o -u -t.
func terraformFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "-out" || strings.HasPrefix(a, "-out=") || a == "-upgrade" {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}

// compile reads, parses and compiles the spec named by -f, printing every
// diagnostic. It returns errReported when any is an error.
func (g *globals) compile(ctx context.Context, selectNames []string) (*project.Compiled, error) {
	src, err := g.source()
	if err != nil {
		return nil, err
	}
	return g.compileFrom(ctx, src, selectNames)
}

// compileFrom compiles src with the command line's inputs and reports the
// diagnostics; it stops, with an error and nothing written, when ctx is
// done.
func (g *globals) compileFrom(ctx context.Context, src project.Source, selectNames []string) (*project.Compiled, error) {
	c, err := project.Compile(ctx, src, g.inputs(selectNames))
	if err != nil {
		return nil, err
	}
	if err := g.reportFiles(c.Files, c.Diags); err != nil {
		return nil, err
	}
	return c, nil
}

// inputs are the command line's inputs of a compilation.
func (g *globals) inputs(selectNames []string) project.Inputs {
	return project.Inputs{Vars: g.vars, Sets: g.sets, BakeEnv: g.bakeEnv, VarFiles: g.varFiles, Environ: g.environ, NativePlatform: g.nativePlatform, Select: selectNames, Lint: g.lint, Strict: g.strict, WarnUnbuilt: g.warnUnbuilt}
}

// planRequest is the spec the command line names, its inputs, and unless
// offline the probes' settings.
func (g *globals) planRequest(selectNames []string, offline bool) (project.PlanRequest, error) {
	src, err := g.source()
	if err != nil {
		return project.PlanRequest{}, err
	}
	return project.PlanRequest{Source: src, Inputs: g.inputs(selectNames), Online: g.online(offline)}, nil
}

// online are the probes' settings from the command line; nil offline.
func (g *globals) online(offline bool) *project.Online {
	if offline {
		return nil
	}
	return &project.Online{
		DockerConfig: g.dockerConfig, DockerRestart: strings.Fields(g.dockerRestart),
		RegistryWrites: g.registryWrites, AllowUnresolved: g.allowUnresolved, Environ: g.environ,
	}
}

// reportFiles prints diagnostics the HCL way, with source snippets from
// files, and returns errReported when any of them is an error.
func (g *globals) reportFiles(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	if len(diags) == 0 {
		return nil
	}
	if g.json && diags.HasErrors() {
		if err := views.WriteJSON(g.streams.out, views.NewResult(diags, files)); err != nil {
			return err
		}
		return errReported
	}
	return g.textDiagnostics(files, diags)
}

// textDiagnostics prints diagnostics the HCL way, with source snippets.
func (g *globals) textDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	// Garbage in gives thousands of diagnostics, each quoting its source;
	// the first few say what is wrong, and printing every one took minutes.
	shown := diags
	if len(shown) > maxDiagnostics {
		shown = shown[:maxDiagnostics]
	}
	if err := views.WriteDiagnostics(g.streams.err, files, shown, g.color(g.streams.err)); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	if more := len(diags) - len(shown); more > 0 {
		fmt.Fprintf(g.streams.err, "... and %d more diagnostic(s) not shown (%d error(s) and %d warning(s) in all).\n\n", more, errs, warns)
	}
	if errs > 0 {
		fmt.Fprintf(g.streams.err, "%d error(s); nothing was written.\n", errs)
		return errReported
	}
	return nil
}

// maxDiagnostics bounds how many diagnostics one command prints.
const maxDiagnostics = 20

// isTerminal reports whether w is a terminal (not /dev/null, which is a
// character device too).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
