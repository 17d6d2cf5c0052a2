package render_test

import (
	"bytes"
	"reflect"
	"strconv"
	"testing"

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
		set(v, 0)
		why, hidden := notShown[a.Field]
		switch shown := text(b) != before; {
		case !shown && !hidden:
			t.Errorf("the text plan does not show %s (plan.Build.%s): show it, or say in notShown why not", a.Name, a.Field)
		case shown && hidden:
			t.Errorf("the text plan shows %s, which notShown says it leaves out (%s)", a.Name, why)
		}
	}
}

// set makes v a value other than its zero (and other than the base
// build's), with every field, element and entry set.
func set(v reflect.Value, depth int) {
	if depth > 4 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("v" + strconv.Itoa(depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		set(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			set(v.Field(i), depth+1)
		}
	case reflect.Slice:
		el := reflect.New(v.Type().Elem()).Elem()
		set(el, depth+1)
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), el))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		set(k, depth+1)
		set(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}
