package plan_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

func sample() *plan.Plan {
	return &plan.Plan{
		Spec:           plan.Spec{File: "bakeplan.hcl", Digest: "sha256:00"},
		NativePlatform: "linux/amd64",
		Variables:      []*plan.Variable{{Name: "N", Type: "number", Value: []byte("100000000000000000000000"), Source: "default"}},
		Steps: []*plan.Step{
			{ID: "publish.app", Action: plan.ActionPublish, Needs: []plan.Edge{{Step: "build.app", Kind: plan.EdgeBuild}}, Publish: &plan.Publish{Target: "app", Tags: []string{"r/app:1"}}},
			{ID: "build.app", Action: plan.ActionBuild, Needs: []plan.Edge{{Step: "builder.default", Kind: plan.EdgeHost}}, Build: &plan.Build{Target: "app", Builder: "default"}},
			{ID: "builder.default", Action: plan.ActionCheck, Builder: &plan.Builder{Name: "default", Endpoint: "auto", Local: true}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	data, err := plan.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Unmarshal(data)
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	again, err := plan.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Errorf("round trip changed the bytes:\n%s\n---\n%s", data, again)
	}
}

func TestUnmarshalRefuses(t *testing.T) {
	good, err := plan.Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr string
	}{
		{"edited by hand", func(s string) string { return strings.Replace(s, "r/app:1", "r/app:2", 1) }, plan.ErrTampered.Error()},
		{"other major version", func(s string) string {
			return strings.Replace(s, `"format_version": "2.0"`, `"format_version": "1.0"`, 1)
		}, "not supported"},
		{"unknown field", func(s string) string { return strings.Replace(s, `"spec": {`, `"surprise": 1, "spec": {`, 1) }, "unknown field"},
		{"not JSON", func(string) string { return "plan" }, "reading plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := plan.Unmarshal([]byte(tt.edit(string(good))))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := plan.Unmarshal([]byte(strings.Replace(string(good), "r/app:1", "r/app:2", 1))); !errors.Is(err, plan.ErrTampered) {
		t.Errorf("tampering is not ErrTampered: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*plan.Plan)
		wantErr string
	}{
		{"valid", func(*plan.Plan) {}, ""},
		{"dangling edge", func(p *plan.Plan) { p.Steps[0].Needs[0].Step = "build.nope" }, "unknown step"},
		{"duplicate id", func(p *plan.Plan) { p.Steps[2].ID = "build.app" }, "duplicate step"},
		{"two kinds", func(p *plan.Plan) { p.Steps[2].Registry = &plan.Registry{} }, "2 kinds"},
		{"cycle", func(p *plan.Plan) {
			p.Steps[2].Needs = []plan.Edge{{Step: "publish.app", Kind: plan.EdgeOrder}}
		}, "cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sample()
			tt.edit(p)
			err := p.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	steps := []*plan.Step{
		{ID: "publish.b", Needs: []plan.Edge{{Step: "build.b"}}},
		{ID: "build.b", Needs: []plan.Edge{{Step: "build.a"}, {Step: "host.emulator.arm64"}}},
		{ID: "build.a"},
		{ID: "registry.r"},
		{ID: "host.emulator.arm64"},
		{ID: "build.c"},
	}
	got, err := plan.Order(steps)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	want := "host.emulator.arm64 registry.r build.a build.b build.c publish.b"
	if strings.Join(ids, " ") != want {
		t.Errorf("order %v, want %s", ids, want)
	}
}

// TestStepIndex: an indexed plan finds its steps; one whose steps were
// replaced or extended after indexing is still answered right.
func TestStepIndex(t *testing.T) {
	p := &plan.Plan{Steps: []*plan.Step{{ID: "a"}, {ID: "b"}}}
	p.Index()
	if p.Step("b") != p.Steps[1] || p.Step("nope") != nil {
		t.Errorf("indexed lookups")
	}
	p.Steps = append(p.Steps, &plan.Step{ID: "c"})
	if p.Step("c") == nil {
		t.Errorf("a step appended after indexing is not found")
	}
	q := *p
	q.Steps = []*plan.Step{{ID: "x"}}
	if q.Step("x") == nil || q.Step("a") != nil {
		t.Errorf("a copy with other steps answers from the old index")
	}
	p.Steps[0] = &plan.Step{ID: "z"}
	if p.Step("z") == nil || p.Step("a") != nil {
		t.Errorf("a step replaced in place is not found")
	}
}
