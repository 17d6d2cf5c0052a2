package render_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testfill"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/render"
	"github.com/bakeplan/bakeplan/targetattr"
)

// notShown are the fields of attributes the text plan leaves out, and why.
var notShown = map[string]string{}

// TestEveryAttributeIsShown proves by difference that the text plan shows
// each attribute's field: setting it on a build changes what is printed,
// unless notShown says why not.
func TestEveryAttributeIsShown(t *testing.T) {
	text := func(b *plan.Build) string {
		p := &plan.Plan{Spec: plan.Spec{File: "bakeplan.hcl", Digest: "sha256:0123456789abcdef"}, Steps: []*plan.Step{
			{ID: "build.app", Action: plan.ActionBuild, Build: b},
		}}
		var out bytes.Buffer
		if err := render.Text(&out, p); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	base := func() *plan.Build {
		return &plan.Build{Target: "app", Builder: "default", Context: ".", Platforms: []plan.PlatformRun{{Platform: "linux/amd64", Native: true}}}
	}
	before := text(base())
	for _, a := range targetattr.All {
		if a.Field == "" {
			continue
		}
		b := base()
		v := reflect.ValueOf(b).Elem().FieldByName(a.Field)
		if !v.IsValid() {
			t.Errorf("%s becomes plan.Build.%s, which does not exist", a.Name, a.Field)
			continue
		}
		testfill.NonZero(v)
		why, hidden := notShown[a.Field]
		switch shown := text(b) != before; {
		case !shown && !hidden:
			t.Errorf("the text plan does not show %s (plan.Build.%s): show it, or say in notShown why not", a.Name, a.Field)
		case shown && hidden:
			t.Errorf("the text plan shows %s, which notShown says it leaves out (%s)", a.Name, why)
		}
	}
}
