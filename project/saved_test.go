package project

import (
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

func TestSavedInputs(t *testing.T) {
	p := &plan.Plan{
		Spec:           plan.Spec{File: "bakeplan.hcl", Path: "ci/bakeplan.hcl"},
		NativePlatform: "linux/amd64",
		Select:         []string{"app"},
		Variables: []*plan.Variable{
			{Name: "VERSION", Value: []byte(`"v1"`), Source: "cli"},
			{Name: "TOKEN", Sensitive: true, Fingerprint: "sha256:x", Source: "env"},
		},
	}
	changed := func(flags ...string) func(string) bool {
		return func(f string) bool {
			for _, x := range flags {
				if x == f {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name string
		o    Overrides
		want string // "" for no error
	}{
		{"nothing given", Overrides{Changed: changed()}, ""},
		{"the plan's own platform", Overrides{Changed: changed("native-platform"), NativePlatform: "linux/amd64"}, ""},
		{"a sensitive --var", Overrides{Changed: changed("var"), Vars: []string{"TOKEN=s"}}, ""},
		{"-f", Overrides{Changed: changed("file")}, "--file cannot be given"},
		{"--var-file", Overrides{Changed: changed("var-file")}, "--var-file cannot be given"},
		{"another platform", Overrides{Changed: changed("native-platform"), NativePlatform: "linux/arm64"}, "--native-platform cannot be given"},
		{"targets", Overrides{Changed: changed(), Targets: []string{"other"}}, "--target cannot be given"},
		{"a --var that is not sensitive", Overrides{Changed: changed("var"), Vars: []string{"VERSION=v2"}}, "--var VERSION cannot be given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, in, err := SavedInputs(p, "p.json", tt.o)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.Name != "ci/bakeplan.hcl" || in.NativePlatform != "linux/amd64" || strings.Join(in.Select, ",") != "app" || len(in.Recorded) != 2 {
				t.Errorf("inputs %+v from %+v", in, src)
			}
		})
	}
	// The environment may set sensitive variables only.
	_, in, err := SavedInputs(p, "p.json", Overrides{Changed: changed(), Environ: []string{"BAKEPLAN_VAR_TOKEN=s", "BAKEPLAN_VAR_VERSION=v9", "HOME=/root"}})
	if err != nil || strings.Join(in.Environ, " ") != "BAKEPLAN_VAR_TOKEN=s HOME=/root" {
		t.Errorf("environment %v, %v", in.Environ, err)
	}
	if _, _, err := SavedInputs(&plan.Plan{}, "old.json", Overrides{Changed: changed()}); err == nil || !strings.Contains(err.Error(), "records no spec path") {
		t.Errorf("a plan without a spec path: %v", err)
	}
}

func TestCheckSaved(t *testing.T) {
	saved := &plan.Plan{Spec: plan.Spec{Digest: "sha256:a"}, Steps: []*plan.Step{
		{ID: "host.emulator.arm64", Action: plan.ActionEnsure, Emulator: &plan.Emulator{Arch: "arm64"}, Observed: map[string]string{"state": "missing"}},
	}}
	now := &plan.Plan{Spec: plan.Spec{Digest: "sha256:a"}, Steps: []*plan.Step{
		{ID: "host.emulator.arm64", Action: plan.ActionEnsure, Emulator: &plan.Emulator{Arch: "arm64"}, Observed: map[string]string{"state": "missing"}},
	}}
	if _, err := CheckSaved(saved, now, "p.json"); err != nil {
		t.Errorf("an unchanged plan: %v", err)
	}
	now.Spec.Digest = "sha256:b"
	if _, err := CheckSaved(saved, now, "p.json"); err == nil || !strings.Contains(err.Error(), "is stale") {
		t.Errorf("a changed spec: %v", err)
	}
}
