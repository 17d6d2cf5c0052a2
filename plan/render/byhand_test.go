package render

import (
	"reflect"
	"slices"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testfill"
	"github.com/bakeplan/bakeplan/plan"
)

// TestShownByHandIsWhatIsShownByHand proves the list by difference: an
// attribute's field, set on its own, changes the lines written by hand
// exactly when shownByHand names it. A field shown by hand but missing
// from the list would be printed twice (in words and by its name); one
// listed but not shown by hand would be printed nowhere.
func TestShownByHandIsWhatIsShownByHand(t *testing.T) {
	none := func(*plan.Build) []string { return nil }
	base := func() *plan.Build {
		return &plan.Build{Target: "app", Builder: "default", Context: ".", Platforms: []plan.PlatformRun{{Platform: "linux/amd64", Native: true}}}
	}
	before := describeWith(base(), none)
	fields := map[string]bool{}
	for _, f := range plan.AttrFields() {
		fields[f.Field] = true
		b := base()
		testfill.NonZero(reflect.ValueOf(b).Elem().FieldByName(f.Field))
		switch byHand := !slices.Equal(describeWith(b, none), before); {
		case byHand && !shownByHand[f.Field]:
			t.Errorf("the text plan shows %s in words of its own, and by its name too: list plan.Build.%s in shownByHand", f.Name, f.Field)
		case !byHand && shownByHand[f.Field]:
			t.Errorf("shownByHand names plan.Build.%s, but no line written by hand shows %s", f.Field, f.Name)
		}
	}
	for field := range shownByHand {
		if !fields[field] {
			t.Errorf("shownByHand names plan.Build.%s, which no attribute becomes", field)
		}
	}
}
