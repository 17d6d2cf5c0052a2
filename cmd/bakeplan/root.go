package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/internal/osfs"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/bakeplan/bakeplan/views"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
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
	vars           []string
	varFiles       []string
	nativePlatform string
	noColor        bool
	dockerConfig   string
	dockerRestart  string
	registryWrites bool

	streams streams
	environ []string

	// json is set by a verb's --json: diagnostics and errors go to stdout
	// as a views.Result instead of text on stderr.
	json    bool
	targets []string // --target
	// recorded are a saved plan's variables, when applying one.
	recorded []*plan.Variable
	// jsonWarnings: the verb's JSON carries warnings, so they are not also
	// printed as text.
	jsonWarnings bool
	// warnings are the warnings of the last report in JSON mode, for a
	// verb whose JSON output carries them (validate).
	warnings hcl.Diagnostics
	files    map[string]*hcl.File
}

func run(ctx context.Context, args []string, s streams, environ []string) int {
	g := &globals{streams: s, environ: environ}
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

	verbs := []*cobra.Command{newValidateCmd(g), newPlanCmd(g), newGraphCmd(g), newApplyCmd(g), newDiffCmd(g)}
	for _, v := range verbs {
		g.specFlags(v)
	}
	root.AddCommand(verbs...)
	root.AddCommand(newHostCmd(g), newVersionCmd(g))
	root.SetArgs(terraformFlags(args))
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	if err := root.ExecuteContext(ctx); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
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
			fmt.Fprintf(s.err, "Error: %s\n", msg)
		}
		return 1
	}
	return 0
}

// exitCode ends a command successfully with another status than 0, for
// --detailed-exitcode.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// specFlags are the flags of every verb that reads the spec.
func (g *globals) specFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&g.file, "file", "f", "bakeplan.hcl", "the spec file (.hcl, or .json for HCL's JSON syntax)")
	f.StringArrayVar(&g.vars, "var", nil, "set a variable, NAME=VALUE (repeatable; wins over files and the environment)")
	f.StringArrayVar(&g.varFiles, "var-file", nil, "read variables from an HCL or JSON file (repeatable)")
	f.StringVar(&g.nativePlatform, "native-platform", "", "plan as if on this platform (default: this machine's), so plans made on different machines agree")
	_ = cmd.RegisterFlagCompletionFunc("file", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"hcl", "json"}, cobra.ShellCompDirectiveFilterFileExt
	})
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
		if a == "-out" || strings.HasPrefix(a, "-out=") {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}

// compiled is a compiled spec and the parsed files, for diagnostics found
// after compiling (host probes) that point into the spec.
type compiled struct {
	plan  *plan.Plan
	files map[string]*hcl.File
	// fsys and specDir locate the spec's files, for naming changed files in
	// diffs.
	fsys    fs.FS
	specDir string
}

// source is where a spec and the files it points at are read from: the
// working tree or a git revision.
type source struct {
	fsys     fs.FS
	specPath string // within fsys
	name     string // for diagnostics
	path     string // on disk, as given; "" for a git revision
}

// workingTree is the spec named by -f, on disk.
func (g *globals) workingTree() (source, error) {
	return onDisk(g.file)
}

// onDisk is the spec file at path, on disk.
func onDisk(path string) (source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return source{}, fmt.Errorf("locating the spec: %w", err)
	}
	return source{fsys: osfs.New("/"), specPath: strings.TrimPrefix(filepath.ToSlash(abs), "/"), name: path, path: filepath.ToSlash(path)}, nil
}

// compile reads, parses and compiles the spec in the working tree, printing
// every diagnostic. It returns errReported when any is an error.
func (g *globals) compile(ctx context.Context, selectNames []string) (*compiled, error) {
	src, err := g.workingTree()
	if err != nil {
		return nil, err
	}
	return g.compileFrom(ctx, src, selectNames)
}

// compileFrom stops, with an error and nothing written, when ctx is done:
// after parsing, and from within the compiler.
func (g *globals) compileFrom(ctx context.Context, src source, selectNames []string) (*compiled, error) {
	parser := hclparse.NewParser()
	data, err := fs.ReadFile(src.fsys, src.specPath)
	if err != nil {
		// The FS names the path without its leading slash; say it as given.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("reading the spec %s: %w", src.name, err)
	}
	sp, diags := spec.ParseContext(ctx, parser, src.name, data)
	var varFiles []hcl.Attributes
	// A variable file that does not parse may hold a sensitive value
	// anywhere; its lines are not quoted when the spec has any.
	var unquoted []string
	for _, vf := range g.varFiles {
		b, err := os.ReadFile(vf)
		if err != nil {
			return nil, fmt.Errorf("reading a variable file: %w", err)
		}
		attrs, d := spec.ParseVarFile(parser, vf, b)
		diags = append(diags, d...)
		varFiles = append(varFiles, attrs)
		if d.HasErrors() {
			unquoted = append(unquoted, vf)
		}
	}
	sens := &compiler.Sensitive{}
	report := func(diags hcl.Diagnostics) error {
		files := sens.MaskFiles(parser.Files())
		if sp == nil || hasSensitive(sp) {
			for _, vf := range unquoted {
				delete(files, vf)
			}
		}
		return g.reportFiles(files, diags)
	}
	if sp == nil {
		return nil, report(diags)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	native := platforms.DefaultSpec()
	if g.nativePlatform != "" {
		p, err := platforms.Parse(g.nativePlatform)
		if err != nil {
			return nil, fmt.Errorf("--native-platform: %w", err)
		}
		native = p
	}
	specDir := path.Dir(src.specPath)
	p, d := compiler.Compile(ctx, sp, compiler.Options{
		FS:             src.fsys,
		SpecDir:        specDir,
		SpecFile:       path.Base(src.specPath),
		SpecPath:       src.path,
		Vars:           g.vars,
		Recorded:       g.recorded,
		VarFiles:       varFiles,
		Environ:        g.environ,
		NativePlatform: native,
		Select:         selectNames,
		Sensitive:      sens,
	})
	diags = append(diags, d...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	if err := report(diags); err != nil {
		// Errors from parsing or variable files also mean no plan, even if
		// the compiler found nothing more.
		return nil, err
	}
	return &compiled{plan: p, files: sens.MaskFiles(parser.Files()), fsys: src.fsys, specDir: specDir}, nil
}

func hasSensitive(sp *spec.Spec) bool {
	for _, v := range sp.Variables {
		if v.Sensitive {
			return true
		}
	}
	return false
}

// reportFiles prints diagnostics the HCL way, with source snippets from
// files, and returns errReported when any of them is an error.
func (g *globals) reportFiles(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	if len(diags) == 0 {
		return nil
	}
	if g.json {
		if diags.HasErrors() {
			if err := views.WriteJSON(g.streams.out, views.NewResult(diags, files)); err != nil {
				return err
			}
			return errReported
		}
		g.warnings, g.files = append(g.warnings, diags...), files
		if !g.jsonWarnings {
			return g.textDiagnostics(files, diags)
		}
		return nil
	}
	return g.textDiagnostics(files, diags)
}

// textDiagnostics prints diagnostics the HCL way, with source snippets.
func (g *globals) textDiagnostics(files map[string]*hcl.File, diags hcl.Diagnostics) error {
	w := hcl.NewDiagnosticTextWriter(g.streams.err, files, 0, g.color(g.streams.err))
	// Garbage in gives thousands of diagnostics, each quoting its source;
	// the first few say what is wrong, and printing every one took minutes.
	shown := diags
	if len(shown) > maxDiagnostics {
		shown = shown[:maxDiagnostics]
	}
	if err := w.WriteDiagnostics(shown); err != nil {
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
