package targetattr

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSpecDocShowsEveryAttribute: docs/spec.md writes out every target
// attribute in its examples, so the reference cannot drift from the list.
func TestSpecDocShowsEveryAttribute(t *testing.T) {
	data, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range All {
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(a.Name) + `\s+=`).Match(data) {
			t.Errorf("docs/spec.md never sets %s (%s)", a.Name, a.Doc)
		}
	}
}

// TestListIsConsistent: names are unique, every spelling of --set and bake
// names one attribute, evaluated attributes have a type, and only an
// attribute that becomes a field can say why that field is not an input.
func TestListIsConsistent(t *testing.T) {
	names, bake, fields := map[string]bool{}, map[string]string{}, map[string]string{}
	for _, a := range All {
		if names[a.Name] {
			t.Errorf("%s is listed twice", a.Name)
		}
		names[a.Name] = true
		if a.Doc == "" {
			t.Errorf("%s has no Doc", a.Name)
		}
		if a.Bake != "" {
			if prev, dup := bake[a.Bake]; dup {
				t.Errorf("bake's %s names both %s and %s", a.Bake, prev, a.Name)
			}
			bake[a.Bake] = a.Name
		}
		if a.Field != "" {
			if prev, dup := fields[a.Field]; dup {
				t.Errorf("plan.Build.%s is set by both %s and %s", a.Field, prev, a.Name)
			}
			fields[a.Field] = a.Name
		} else if a.NotInput != "" {
			t.Errorf("%s becomes no field, so NotInput means nothing", a.Name)
		}
		if a.Set == NoSet && len(a.SetNames) > 0 {
			t.Errorf("%s has --set spellings but --set does not take it", a.Name)
		}
		if a.Structural() && a.Set != NoSet {
			t.Errorf("%s is structural; --set cannot write it", a.Name)
		}
	}
	seen := map[string]string{}
	for _, a := range All {
		for _, n := range append([]string{a.Name}, a.SetNames...) {
			if a.Set == NoSet {
				continue
			}
			if prev, dup := seen[n]; dup && prev != a.Name {
				t.Errorf("--set %s names both %s and %s", n, prev, a.Name)
			}
			seen[n] = a.Name
		}
	}
	if len(SetKeys()) != len(seen) {
		t.Errorf("SetKeys has %d spellings, want %d", len(SetKeys()), len(seen))
	}
}

func TestCheckHostname(t *testing.T) {
	for s, ok := range map[string]bool{
		"builder": true, "build-1.example.com": true, "A1": true, "x": true,
		strings.Repeat("a", 63) + ".b": false, strings.Repeat("a", 64): true,
		"": false, "-a": false, "a-": false, "a..b": false, ".a": false, "a.": false,
		"a_b": false, "a b": false, "ü": false, "a\nb": false, "a\x1b[31m": false,
	} {
		if err := checkHostname(s); (err == nil) != ok {
			t.Errorf("checkHostname(%q) = %v, want ok %v", s, err, ok)
		}
	}
}
