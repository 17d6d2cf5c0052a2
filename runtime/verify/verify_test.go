package verify

import (
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

// TestRebuildPlan: verify rebuilds every build from scratch, on the named
// builder, pushing, exporting and caching nothing, and not trusting an
// up-to-date finding of a saved plan; it checks the release builds only,
// and refuses a plan with none or a release that pushes nothing.
func TestRebuildPlan(t *testing.T) {
	p := &plan.Plan{Steps: []*plan.Step{
		{ID: "builder.default", Builder: &plan.Builder{Name: "default"}},
		{ID: "builder.other", Builder: &plan.Builder{Name: "other"}},
		{ID: "build.base", Needs: []plan.Edge{{Step: "builder.default", Kind: plan.EdgeHost}}, Build: &plan.Build{Target: "base", Builder: "default"}},
		{ID: "build.app", Needs: []plan.Edge{{Step: "build.base", Kind: plan.EdgeData, Name: "base"}, {Step: "builder.default", Kind: plan.EdgeHost}}, Build: &plan.Build{
			Target: "app", Builder: "default", Release: true, Push: true, Tags: []string{"r.example.com/app:1"},
			Outputs: []*plan.Output{{Type: "oci", Dest: "app.tar"}}, CacheTo: []map[string]string{{"type": "inline"}},
			Status: &plan.BuildStatus{State: "up-to-date", Digest: "sha256:x"},
		}},
		{ID: "publish.app", Publish: &plan.Publish{Target: "app"}},
	}}
	vp, checked, err := rebuildPlan(p, "other")
	if err != nil {
		t.Fatal(err)
	}
	if len(checked) != 1 || checked[0].ID != "build.app" || vp.Step("publish.app") != nil {
		t.Fatalf("checked %v, publish kept: %v", checked, vp.Step("publish.app") != nil)
	}
	b := vp.Step("build.app")
	if !b.Build.NoCache || b.Build.Push || b.Build.Outputs != nil || b.Build.CacheTo != nil || b.Build.Status != nil || b.Build.Builder != "other" {
		t.Errorf("rebuilt as %+v", b.Build)
	}
	if !strings.Contains(plan.Edge{}.Step+b.Needs[1].Step, "builder.other") {
		t.Errorf("edges %v", b.Needs)
	}
	if p.Step("build.app").Build.Status == nil || !p.Step("build.app").Build.Push {
		t.Errorf("the plan given was changed")
	}
	if _, _, err := rebuildPlan(p, "nosuch"); err == nil || !strings.Contains(err.Error(), "declares no builder") {
		t.Errorf("an unknown builder: %v", err)
	}
	p.Steps[3].Build.Release = false
	if _, _, err := rebuildPlan(p, ""); err == nil || !strings.Contains(err.Error(), "no release build") {
		t.Errorf("no release build: %v", err)
	}
}

// TestRebuildOnAPool: --builder naming a pool places the rebuilds on its
// nodes, not on the nodes of the pool the release ran on.
func TestRebuildOnAPool(t *testing.T) {
	p := &plan.Plan{Steps: []*plan.Step{
		{ID: "builder.a", Builder: &plan.Builder{Name: "a", Nodes: []string{"tcp://a1:1", "tcp://a2:1"}}},
		{ID: "builder.b", Builder: &plan.Builder{Name: "b", Nodes: []string{"tcp://b1:1", "tcp://b2:1"}}},
		{ID: "build.app", Build: &plan.Build{Target: "app", Builder: "a", Node: "tcp://a1:1", Placement: "sticky", Release: true, Push: true, Tags: []string{"r.example.com/app:1"}}},
	}}
	p.Index()
	vp, _, err := rebuildPlan(p, "b")
	if err != nil {
		t.Fatal(err)
	}
	if b := vp.Step("build.app").Build; b.Builder != "b" || (b.Node != "tcp://b1:1" && b.Node != "tcp://b2:1") || b.Placement == "" {
		t.Errorf("rebuilt on %s node %q (%s)", b.Builder, b.Node, b.Placement)
	}
	if p.Step("build.app").Build.Node != "tcp://a1:1" {
		t.Error("the plan given was changed")
	}
}
