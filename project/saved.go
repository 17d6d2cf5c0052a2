package project

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/containerd/platforms"
)

// Overrides are what a command line says besides a saved plan: each must
// agree with the plan or be refused.
type Overrides struct {
	// Changed names the flags given (file, var-file, native-platform, ...).
	Changed        func(flag string) bool
	NativePlatform string
	Vars           []string // --var NAME=VALUE
	Targets        []string // --target and target arguments
	Environ        []string
}

// SavedInputs returns the spec and inputs a saved plan was made from, so
// that compiling them again gives the same plan unless something changed.
// A flag that would change them is refused with the reason; --var is
// allowed for sensitive variables only, whose values a plan never holds
// (they must match its fingerprints), and the environment may set only
// those.
func SavedInputs(p *plan.Plan, name string, o Overrides) (Source, Inputs, error) {
	for _, f := range []string{"file", "var-file", "native-platform", "set"} {
		if f == "native-platform" && o.Changed(f) {
			// Naming the plan's own platform changes nothing.
			if pl, err := platforms.Parse(o.NativePlatform); err == nil && platforms.Format(platforms.Normalize(pl)) == p.NativePlatform {
				continue
			}
		}
		if o.Changed(f) {
			return Source{}, Inputs{}, fmt.Errorf("--%s cannot be given with a plan file: %s records the spec, variables, --set overrides, targets and native platform it was made from, and applies exactly those; make a new plan to change them", f, name)
		}
	}
	if len(o.Targets) > 0 {
		return Source{}, Inputs{}, fmt.Errorf("--target cannot be given with a plan file: %s applies the targets it was made for; make a new plan to change them", name)
	}
	sensitive := map[string]bool{}
	for _, v := range p.Variables {
		if v.Sensitive {
			sensitive[v.Name] = true
		}
	}
	for _, assign := range o.Vars {
		n, _, _ := strings.Cut(assign, "=")
		if !sensitive[n] {
			return Source{}, Inputs{}, fmt.Errorf("--var %s cannot be given with a plan file: %s recorded the value of every variable that is not sensitive; make a new plan to change it (--var is only for sensitive variables, whose values a plan never holds)", n, name)
		}
	}
	if p.Spec.Path == "" {
		return Source{}, Inputs{}, fmt.Errorf("%s records no spec path; it was made by an older bakeplan: make a new plan", name)
	}
	src, err := OnDisk(filepath.FromSlash(p.Spec.Path))
	if err != nil {
		return Source{}, Inputs{}, err
	}
	var overrides []string
	for _, o := range p.Spec.Overrides {
		overrides = append(overrides, filepath.FromSlash(o))
	}
	if src, err = src.WithOverrides(overrides); err != nil {
		return Source{}, Inputs{}, err
	}
	var env []string
	for _, kv := range o.Environ {
		if rest, ok := strings.CutPrefix(kv, compiler.EnvPrefix); ok {
			if n, _, _ := strings.Cut(rest, "="); !sensitive[n] {
				continue
			}
		}
		env = append(env, kv)
	}
	return src, Inputs{Vars: o.Vars, Sets: p.Set, Recorded: p.Variables, Environ: env, NativePlatform: p.NativePlatform, Select: p.Select}, nil
}

// CheckSaved compares a saved plan with the plan its inputs give now (with
// what a probe now saw, when the saved plan was probed) and returns the
// plan to apply: the saved one, with the sensitive values a plan file never
// holds. A stale plan is an error that names every input that changed.
func CheckSaved(saved, now *plan.Plan, name string) (*plan.Plan, error) {
	if stale := diff.Stale(saved, now); len(stale) > 0 {
		return nil, fmt.Errorf("%s is stale; nothing was run. Make a new plan. What changed:\n  %s", name, strings.Join(stale, "\n  "))
	}
	for _, st := range saved.Steps {
		n := now.Step(st.ID)
		if n == nil {
			continue
		}
		if st.Build != nil && len(st.Build.SensitiveFingerprints) > 0 {
			st.Build.SensitiveValues = n.Build.SensitiveValues
		}
	}
	return saved, nil
}
