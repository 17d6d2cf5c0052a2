package bakeplan_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestDependencyDirection keeps data flowing one way: spec -> compiler ->
// plan -> runtime. A package may import only the packages listed for it
// (within this module); everything outside the module is allowed.
func TestDependencyDirection(t *testing.T) {
	const mod = "github.com/bakeplan/bakeplan/"
	allowed := map[string][]string{
		"targetattr":          {},
		"spec":                {"internal/par", "targetattr", "spec/syntaxcodec"},
		"spec/syntaxcodec":    {},
		"lockfile":            {"internal/imageref"},
		"plan":                {"targetattr"},
		"plan/render":         {"plan", "internal/escape"},
		"plan/placement":      {"plan"},
		"compiler/inputs":     {"internal/filemode", "internal/osfs"},
		"compiler":            {"internal/bakecsv", "internal/environ", "spec", "targetattr", "lockfile", "plan", "compiler/inputs", "compiler/dockerfile", "internal/par", "internal/realpath", "internal/lines"},
		"compiler/dockerfile": {"internal/imageref"},
		"runtime":             {"plan"},
		"runtime/endpoint":    {"plan", "internal/home"},
		"runtime/publish":     {"runtime/registry"},
		"runtime/pins":        {"lockfile", "plan", "runtime/registry"},
		"runtime/imagediff":   {"internal/keys"},
		"runtime/uptodate":    {"plan", "runtime/registry", "internal/atomicfile", "internal/keys"},
		"runtime/verify":      {"plan", "runtime/apply", "runtime/imagediff", "runtime/registry"},
		"runtime/registry":    {"plan", "internal/home"},
		"runtime/solve":       {"plan", "internal/home", "internal/imageref", "internal/filemode"},
		"runtime/apply":       {"plan", "runtime/endpoint", "runtime/solve", "runtime/publish", "runtime/registry", "runtime/uptodate", "internal/atomicfile"},
		"runtime/host":        {"plan", "runtime/endpoint", "runtime/registry", "internal/atomicfile"},
		"bakeimport":          {"spec", "targetattr", "internal/bakecsv"},
		"diff":                {"plan", "internal/keys"},
		"diff/render":         {"diff", "internal/escape"},
		"project":             {"bakeimport", "internal/environ", "spec", "lockfile", "compiler", "compiler/inputs", "plan", "diff", "runtime/apply", "runtime/endpoint", "runtime/host", "runtime/pins", "runtime/registry", "runtime/solve", "runtime/uptodate", "runtime/verify", "internal/atomicfile", "internal/osfs", "internal/lines", "internal/gitfs", "internal/realpath"},
		"views":               {"plan", "lockfile", "runtime/pins", "runtime/verify", "runtime/imagediff", "runtime/apply", "runtime/host", "runtime/solve", "runtime/endpoint", "internal/escape", "internal/lines"},
		"cmd/bakeplan":        {"bakeimport", "internal/environ", "spec", "lockfile", "compiler", "plan", "runtime", "diff", "internal/gitfs", "internal/atomicfile", "internal/osfs", "internal/realpath", "internal/escape", "views", "project"},
	}
	for pkg, ok := range allowed {
		p, err := build.Import(mod+pkg, ".", 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, imp := range p.Imports {
			rest, ours := strings.CutPrefix(imp, mod)
			if !ours {
				continue
			}
			permitted := false
			for _, o := range ok {
				permitted = permitted || rest == o || strings.HasPrefix(rest, o+"/")
			}
			if !permitted {
				t.Errorf("%s imports %s; it may import only %v", pkg, rest, ok)
			}
		}
	}
}
