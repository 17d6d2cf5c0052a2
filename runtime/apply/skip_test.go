package apply

import (
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

// TestSkipping: a build that only feeds others is skipped with them, and
// runs when one of them is rebuilt; a build with its own image is read
// from the registry instead and stays skipped.
func TestSkipping(t *testing.T) {
	upToDate := func(digest string) *plan.BuildStatus {
		return &plan.BuildStatus{State: "up-to-date", Digest: digest}
	}
	steps := func() *plan.Plan {
		return &plan.Plan{Steps: []*plan.Step{
			{ID: "build.leaf", Build: &plan.Build{Target: "leaf", Status: upToDate("")}},
			{ID: "build.mid", Build: &plan.Build{Target: "mid", Status: upToDate("")}, Needs: []plan.Edge{{Step: "build.leaf", Kind: plan.EdgeData}}},
			{ID: "build.base", Build: &plan.Build{Target: "base", Status: upToDate("sha256:b")}},
			{ID: "build.app", Build: &plan.Build{Target: "app", Status: upToDate("sha256:a")}, Needs: []plan.Edge{{Step: "build.mid", Kind: plan.EdgeData}, {Step: "build.base", Kind: plan.EdgeData}}},
		}}
	}
	for _, tc := range []struct {
		rebuild []string
		want    map[string]bool
	}{
		{nil, map[string]bool{"build.leaf": true, "build.mid": true, "build.base": true, "build.app": true}},
		{[]string{"app"}, map[string]bool{"build.leaf": false, "build.mid": false, "build.base": true, "build.app": false}},
		{[]string{"*"}, map[string]bool{"build.leaf": false, "build.mid": false, "build.base": false, "build.app": false}},
	} {
		got := skipping(steps(), tc.rebuild)
		for id, want := range tc.want {
			if got[id] != want {
				t.Errorf("--rebuild %v: %s skipped %t, want %t", tc.rebuild, id, got[id], want)
			}
		}
	}
}
