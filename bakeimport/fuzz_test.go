package bakeimport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzConvert feeds import hostile bake files, HCL and JSON: it must not
// panic, must finish quickly (a watchdog fails it after 10s), and whatever
// it writes must parse (Convert checks that itself and says so as an
// error, which the fuzzer reports here).
func FuzzConvert(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/bakecorpus/*/docker-bake.*")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data), strings.HasSuffix(s, ".json"))
	}
	for _, s := range []string{
		"X = \"a\"\ntarget \"a\" {\n  args = { A = X }\n  inherits = [\"b-${X}\"]\n}\ntarget \"b-a\" {}\n",
		"target \"a\" {\n  output = [\"type=image,name=x\", \"-\", \"type=local,dest=\\\"q\\\"\"]\n  secret = [\"bogus\"]\n}\n",
		"function \"f\" {\n  params = [x]\n  variadic_params = rest\n  result = [for v in rest : \"${x}${v}${Y}\"]\n}\nvariable \"Y\" {}\n",
		"target \"a\" {\n  contexts = { b = \"target:b\", c = X ? \"target:b\" : \"./c\" }\n}\n",
		"target \"a\" {\n  annotations = [\"index:k=${v}\", \"x\"]\n  matrix = { v = [\"1\"] }\n  name = \"a-${v}\"\n}\n",
	} {
		f.Add(s, false)
	}
	f.Add(`{"variable": {"A": {"default": "x\u0000${B}\"%{"}}, "target": {"a": {"args": {"K": "${A}"}, "x": [[[{}]]]}}}`, true)
	f.Fuzz(func(t *testing.T, src string, isJSON bool) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic("import took more than 10s:\n" + src) })
		defer watchdog.Stop()
		name := "docker-bake.hcl"
		if isJSON {
			name = "docker-bake.json"
		}
		res, diags := Convert(context.Background(), []File{{Name: name, Data: []byte(src)}}, nil)
		for _, d := range diags {
			if strings.Contains(d.Summary, "does not parse") {
				t.Fatalf("%s\ninput:\n%s", d.Detail, src)
			}
		}
		if diags.HasErrors() {
			return
		}
		for _, spec := range res.Specs {
			if _, d := hclsyntax.ParseConfig(spec, "out.hcl", hcl.InitialPos); d.HasErrors() {
				t.Fatalf("output does not parse: %v\n%s", d, spec)
			}
		}
		for _, w := range res.Warnings {
			if w.Subject == nil || w.Subject.Filename != name {
				t.Errorf("warning %q not at the bake file: %v", w.Summary, w.Subject)
			}
		}
	})
}

// FuzzConvertCompose feeds import hostile compose files: no panic, quick,
// and output that parses.
func FuzzConvertCompose(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/bakecorpus/*/compose.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("services:\n  a.b:\n    build:\n      context: \"${X:-.}\"\n      args: [\"A=${Y}\", \"B\"]\n      x-bake:\n        tags: \"a:1 b:2\"\n        contexts: {c: \"service:a.b\"}\n")
	f.Add("services:\n  w:\n    build: .\n    image: \"$${literal}\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic("import took more than 10s:\n" + src) })
		defer watchdog.Stop()
		res, diags := Convert(context.Background(), []File{{Name: "compose.yaml", Data: []byte(src)}}, map[string]string{"X": "./x"})
		if diags.HasErrors() {
			for _, d := range diags {
				if strings.Contains(d.Summary, "does not parse") {
					t.Fatalf("%s\ninput:\n%s", d.Detail, src)
				}
			}
			return
		}
		for _, spec := range res.Specs {
			if _, d := hclsyntax.ParseConfig(spec, "out.hcl", hcl.InitialPos); d.HasErrors() {
				t.Fatalf("output does not parse: %v\n%s", d, spec)
			}
		}
	})
}
