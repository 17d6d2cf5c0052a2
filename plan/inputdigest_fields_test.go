package plan

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testfill"
	"github.com/bakeplan/bakeplan/targetattr"
)

// derivedFields classifies what no target attribute sets: the fields of
// Build the compiler derives, and the fields of the values in a Build's
// input fields ("Images.Registry"). "" means the input digest covers it;
// anything else says why it does not. Fields set from an attribute are
// classified in targetattr.All (Field, NotInput).
var derivedFields = map[string]string{
	"Target":                "a target's name is not what it builds",
	"Node":                  "which node of a pool builds it does not change the result",
	"Placement":             "why the build runs on its node",
	"Inputs":                "",
	"SensitiveFingerprints": "",
	"Images":                "",
	"Frontend":              "",
	"Remote":                "",
	"InputDigest":           "it is the digest",
	"Status":                "what an online plan saw in the registry, not an input",
	"SensitiveValues":       "never saved; the fingerprints are inputs",

	"Platforms.Platform":      "",
	"Platforms.Native":        "",
	"Platforms.CrossCompiled": "",
	"Platforms.Stages":        "",
	"Platforms.Emulator":      "the emulator follows from the platform",
	"Platforms.RunSteps":      "a count for the reader; the emulated stages are inputs",

	"Images.Ref":        "",
	"Images.Platforms":  "",
	"Images.Syntax":     "",
	"Images.Digest":     "",
	"Images.Resolved":   "",
	"Images.Locked":     "where the pin came from; the digest is the input",
	"Images.Registry":   "what the tag points at now; the pin is the input",
	"Images.Unresolved": "makes the build never up to date instead",
	"Images.OnBuild":    "makes the build never up to date instead",
	"Images.Origin":     "where the image is named, for messages; not saved",

	"Remote.Source": "",
	"Remote.Pinned": "",
	"Remote.At":     "where the source is named; the source is the input",

	"Inputs.Kind":     "",
	"Inputs.Digest":   "",
	"Inputs.Path":     "the path is not an input; its digest is",
	"Inputs.Reads":    "what the build reads decides the digest, which is the input",
	"Inputs.ReadsAll": "why the digest covers the whole context",

	"Contexts.Name":   "",
	"Contexts.Target": "",
	"Contexts.Path":   "",
	"Contexts.Image":  "",
	"Contexts.URL":    "",

	"Outputs.Attrs": "",
	"Outputs.Type":  "the exporter says where the image goes; its attributes that change the image are inputs",
	"Outputs.Dest":  "where the image goes, not what it is",
}

// TestEveryBuildFieldIsDigestedOrExempt proves by difference what the input
// digest covers: every field of Build (and of the values in its input
// fields) is set on its own, and the digest must change exactly for those
// classified as inputs. A field added to Build without a classification,
// or classified wrongly, fails here.
func TestEveryBuildFieldIsDigestedOrExempt(t *testing.T) {
	why := map[string]string{}
	for _, a := range targetattr.All {
		if a.Field != "" {
			why[a.Field] = a.NotInput
		}
	}
	for f, w := range derivedFields {
		if _, dup := why[f]; dup {
			t.Errorf("%s is classified both in targetattr and in derivedFields", f)
		}
		why[f] = w
	}
	rel := &Release{SourceDateEpoch: 1}
	bt := reflect.TypeFor[Build]()
	for i := range bt.NumField() {
		f := bt.Field(i)
		w, listed := why[f.Name]
		if !listed {
			t.Errorf("plan.Build.%s is neither in the input digest nor listed as exempt: give its attribute a Field in targetattr (or list it in derivedFields), and cover it in InputDigest or say why not", f.Name)
			continue
		}
		delete(why, f.Name)
		base := &Build{Args: map[string]string{"A": "v"}}
		changed := *base
		v := reflect.ValueOf(&changed).Elem().Field(i)
		if f.Name == "SensitiveFingerprints" {
			// A fingerprint stands in for a sensitive arg's value.
			v.Set(reflect.ValueOf(map[string]string{"args.A": "fp"}))
		} else {
			testfill.NonZero(v)
		}
		checkDifference(t, "plan.Build."+f.Name, w, InputDigest(base, rel) != InputDigest(&changed, rel))
		if w == "" {
			for _, sub := range elemFields(f.Type) {
				checkNested(t, i, f, sub, why, rel)
			}
		}
	}
	for f := range why {
		t.Errorf("%s is classified, but Build has no such field", f)
	}
}

// checkNested sets one field of a single element of an input field.
func checkNested(t *testing.T, i int, f reflect.StructField, sub reflect.StructField, why map[string]string, rel *Release) {
	t.Helper()
	name := f.Name + "." + sub.Name
	w, listed := why[name]
	if !listed {
		t.Errorf("plan.Build.%s is neither in the input digest nor listed as exempt: list it in derivedFields", name)
		return
	}
	delete(why, name)
	base, changed := &Build{}, &Build{}
	one := func(b *Build) reflect.Value {
		v := reflect.ValueOf(b).Elem().Field(i)
		et := v.Type().Elem()
		el := reflect.New(et).Elem()
		if et.Kind() == reflect.Pointer {
			el.Set(reflect.New(et.Elem()))
		}
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), el))
		return reflect.Indirect(v.Index(0))
	}
	one(base)
	testfill.NonZero(one(changed).FieldByIndex(sub.Index))
	checkDifference(t, "plan.Build."+name, w, InputDigest(base, rel) != InputDigest(changed, rel))
}

func checkDifference(t *testing.T, name, why string, changes bool) {
	t.Helper()
	switch {
	case why == "" && !changes:
		t.Errorf("%s is classified as an input, but setting it does not change the input digest", name)
	case why != "" && changes:
		t.Errorf("%s is classified as not an input (%s), but setting it changes the input digest", name, why)
	}
}

// elemFields are the fields of a slice's struct elements, or none.
func elemFields(t reflect.Type) []reflect.StructField {
	if t.Kind() != reflect.Slice {
		return nil
	}
	et := t.Elem()
	if et.Kind() == reflect.Pointer {
		et = et.Elem()
	}
	if et.Kind() != reflect.Struct {
		return nil
	}
	var out []reflect.StructField
	for i := range et.NumField() {
		out = append(out, et.Field(i))
	}
	return out
}

// TestPlanFormatDocumentsEveryBuildField: docs/plan-format.md's Build table
// names every field of a build step's JSON, its input digest table names
// every field the digest covers, and its "Not covered" list every
// attribute's field it leaves out.
func TestPlanFormatDocumentsEveryBuildField(t *testing.T) {
	data, err := os.ReadFile("../docs/plan-format.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	table := section(t, doc, "### Build\n", "\n\n")
	covered := section(t, doc, "| covered | fields | how |", "\n\n")
	notCovered := section(t, doc, "Not covered, on purpose or for now:", "\n## ")
	inputs := map[string]bool{}
	for _, a := range targetattr.All {
		if a.Field != "" {
			inputs[a.Field] = a.NotInput == ""
		}
	}
	for f, w := range derivedFields {
		if !strings.Contains(f, ".") {
			inputs[f] = w == ""
		}
	}
	// The doc's rule covers an attribute written and digested as derived
	// from its row: under its own name, by its kind, only when set.
	for _, rule := range []string{"A target attribute the table does not name", "| any other attribute | under its name |"} {
		if !strings.Contains(doc, rule) {
			t.Errorf("docs/plan-format.md no longer says %q, which lets it leave derived attributes out", rule)
		}
	}
	byRule := map[string]bool{}
	for _, f := range AttrFields() {
		json, _, _ := strings.Cut(fieldTag(f.Field), ",")
		byRule[f.Field] = json == f.Name && f.Kind != KindStructured && !digestedByHand[f.Field]
	}
	bt := reflect.TypeFor[Build]()
	for i := range bt.NumField() {
		f := bt.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || byRule[f.Name] {
			continue
		}
		code := "`" + name + "`"
		if !strings.Contains(table, code) {
			t.Errorf("docs/plan-format.md's Build table does not name %s", code)
		}
		if inputs[f.Name] && !strings.Contains(covered, code) {
			t.Errorf("docs/plan-format.md's input digest table does not name %s, which the digest covers", code)
		}
	}
	for _, a := range targetattr.All {
		if a.Field != "" && a.NotInput != "" && !strings.Contains(notCovered, a.Name) {
			t.Errorf("docs/plan-format.md's \"Not covered\" list does not name %s (%s)", a.Name, a.NotInput)
		}
	}
}

func fieldTag(name string) string {
	f, _ := reflect.TypeFor[Build]().FieldByName(name)
	return f.Tag.Get("json")
}

// section is the text of doc from start up to the next end after it.
func section(t *testing.T, doc, start, end string) string {
	t.Helper()
	i := strings.Index(doc, start)
	if i < 0 {
		t.Fatalf("docs/plan-format.md has no %q", start)
	}
	rest := doc[i+len(start):]
	if j := strings.Index(rest, end); j >= 0 {
		return rest[:j]
	}
	return rest
}
