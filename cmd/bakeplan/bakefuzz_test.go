package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// bakeCase is one generated bake file, the targets a run selects (none:
// bake's default group) and the environment it runs in.
type bakeCase struct {
	file       string
	override   string   // a second file, docker-bake.override.hcl, when set
	jsonFile   string   // a JSON file after it, docker-bake.override.json, when set
	sets       []string // --set overrides
	names      []string
	environ    []string
	constructs int
}

// genBake writes a bake file from a grammar of the constructs real files
// combine: variables (with and without defaults, referencing each other,
// set from the environment), bake's functions and user functions,
// templates and inherits chains (maps merged, lists and scalars
// replaced), matrices, target: contexts, name expressions, and groups
// (listed, nested, computed with concat and for).
func genBake(rng *rand.Rand) bakeCase {
	var b strings.Builder
	c := bakeCase{}
	used := func() { c.constructs++ }
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }

	// Variables. Those a tag reads have a value a tag can hold (a
	// variable with no default is empty, which bake --print prints but no
	// build takes).
	nvars := 1 + rng.IntN(3)
	var tagVars []string
	for i := range nvars {
		switch rng.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "variable \"V%d\" {\n  default = %q\n}\n", i, pick("a", "b1", "x.y", "1.2.3"))
			tagVars = append(tagVars, fmt.Sprintf("V%d", i))
		case 1:
			if len(tagVars) > 0 {
				fmt.Fprintf(&b, "variable \"V%d\" {\n  default = \"${%s}-%s\"\n}\n", i, tagVars[rng.IntN(len(tagVars))], pick("dev", "rc", "z"))
				tagVars = append(tagVars, fmt.Sprintf("V%d", i))
				used()
				break
			}
			fallthrough
		default:
			fmt.Fprintf(&b, "variable \"V%d\" {}\n", i)
		}
		used()
		if rng.IntN(4) == 0 {
			c.environ = append(c.environ, fmt.Sprintf("V%d=%s", i, pick("env1", "e-2", "FROM_ENV")))
			used()
		}
	}
	v := func() string { return fmt.Sprintf("V%d", rng.IntN(nvars)) }
	if rng.IntN(2) == 0 {
		b.WriteString("function \"tagged\" {\n  params = [name, version]\n  result = \"registry.example.com/${name}:${version}\"\n}\n")
		used()
	}
	hasFunc := strings.Contains(b.String(), "function \"tagged\"")
	value := func() string {
		switch rng.IntN(5) {
		case 0:
			used()
			return fmt.Sprintf("upper(%s)", v())
		case 1:
			used()
			return fmt.Sprintf("join(\"-\", [%s, %q])", v(), pick("p", "q"))
		case 2:
			return fmt.Sprintf("\"${%s}\"", v())
		case 3:
			used()
			return fmt.Sprintf("format(\"%%s.%%s\", %s, %q)", v(), pick("k", "l"))
		default:
			return strconv.Quote(pick("lit", "v1", "0"))
		}
	}
	tag := func(name string) string {
		version := "latest"
		if len(tagVars) > 0 {
			version = "${" + tagVars[rng.IntN(len(tagVars))] + "}"
		}
		if hasFunc && rng.IntN(2) == 0 {
			used()
			return fmt.Sprintf("tagged(%q, \"%s\")", name, version)
		}
		return fmt.Sprintf("\"registry.example.com/%s:%s\"", name, version)
	}
	platformSets := [][]string{{"linux/amd64"}, {"linux/amd64", "linux/arm64"}, {"linux/arm64"}}
	plats := func(ps []string) string {
		q := make([]string, len(ps))
		for i, p := range ps {
			q[i] = strconv.Quote(p)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}

	// Templates, inherited by targets, maybe through each other.
	var templates, helpers []string
	for i := range rng.IntN(3) {
		name := fmt.Sprintf("_t%d", i)
		fmt.Fprintf(&b, "target %q {\n", name)
		if i > 0 && rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "  inherits = [%q]\n", templates[rng.IntN(len(templates))])
			used()
		}
		fmt.Fprintf(&b, "  args = { T%d = %s, SHARED = %q }\n", i, value(), pick("from-template", "t"))
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "  platforms = %s\n", plats(platformSets[rng.IntN(len(platformSets))]))
		}
		if rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "  labels = { \"org.example.t\" = %s }\n", value())
		}
		if rng.IntN(3) == 0 {
			// A context its children inherit: a one-platform helper.
			fmt.Fprintf(&b, "  contexts = { helper = \"target:helper%d\" }\n", i)
			helpers = append(helpers, fmt.Sprintf("target \"helper%d\" {\n  platforms = [\"linux/amd64\"]\n}\n", i))
			used()
		}
		b.WriteString("}\n")
		templates = append(templates, name)
		used()
	}

	// Targets.
	var names []string
	platsOf := map[string][]string{}
	ntargets := 1 + rng.IntN(4)
	for i := range ntargets {
		name := fmt.Sprintf("t%d", i)
		fmt.Fprintf(&b, "target %q {\n", name)
		if len(templates) > 0 && rng.IntN(2) == 0 {
			fmt.Fprintf(&b, "  inherits = [%q]\n", templates[rng.IntN(len(templates))])
			used()
		}
		fmt.Fprintf(&b, "  args = { A%d = %s", i, value())
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, ", SHARED = %q", "own")
			used()
		}
		b.WriteString(" }\n")
		ps := platformSets[rng.IntN(len(platformSets))]
		fmt.Fprintf(&b, "  platforms = %s\n", plats(ps))
		platsOf[name] = ps
		fmt.Fprintf(&b, "  tags = [%s]\n", tag(name))
		if i > 0 && rng.IntN(3) == 0 {
			// A context target bake accepts: it builds one platform, or
			// all of its user's.
			dep := names[rng.IntN(len(names))]
			if len(platsOf[dep]) == 1 || !slices.ContainsFunc(ps, func(p string) bool { return !slices.Contains(platsOf[dep], p) }) {
				fmt.Fprintf(&b, "  contexts = { dep = \"target:%s\" }\n", dep)
				used()
			}
		}
		b.WriteString("}\n")
		names = append(names, name)
		used()
	}
	// A matrix: of lists (two keys, their product), or of objects.
	switch rng.IntN(3) {
	case 0:
		b.WriteString("target \"m\" {\n  name = \"m-${x}-${y}\"\n  matrix = { x = [\"one\", \"two\"], y = [\"a\"] }\n  args = { X = x, Y = y }\n  platforms = [\"linux/amd64\"]\n  tags = [\"registry.example.com/m:${x}-${y}\"]\n}\n")
		names = append(names, "m-one-a", "m-two-a")
		used()
	case 1:
		b.WriteString("target \"m\" {\n  name = \"m-${item.v}\"\n  matrix = { item = [{ v = \"one\", os = \"debian\" }, { v = \"two\", os = \"alpine\" }] }\n  args = { V = item.v, OS = item.os }\n  platforms = [\"linux/amd64\"]\n  tags = [\"registry.example.com/m:${item.v}-${item.os}\"]\n}\n")
		names = append(names, "m-one", "m-two")
		used()
		used()
	}

	// Groups.
	switch rng.IntN(4) {
	case 0:
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = strconv.Quote(n)
		}
		fmt.Fprintf(&b, "group \"default\" {\n  targets = [%s]\n}\n", strings.Join(q, ", "))
		used()
	case 1:
		fmt.Fprintf(&b, "group \"inner\" {\n  targets = [%q]\n}\ngroup \"default\" {\n  targets = [\"inner\", %q]\n}\n", names[0], names[len(names)-1])
		used()
		used()
	case 2:
		fmt.Fprintf(&b, "variable \"WHICH\" {\n  default = [%q]\n}\ngroup \"default\" {\n  targets = concat([for n in WHICH : n], [%q])\n}\n", names[0], names[len(names)-1])
		used()
		used()
	default:
		c.names = []string{names[rng.IntN(len(names))]}
	}
	// A second file that redefines a target, and --set overrides.
	if rng.IntN(4) == 0 {
		t := names[rng.IntN(len(names))]
		if !strings.HasPrefix(t, "m-") {
			c.override = fmt.Sprintf("target %q {\n  args = { OV = %q }\n  tags = [\"registry.example.com/%s:override\"]\n}\n", t, pick("o1", "o2"), t)
			used()
		}
	}
	if rng.IntN(4) == 0 {
		// A JSON file, as generators write them: a variable's default and
		// a target redefined, with interpolation and a function.
		t := names[rng.IntN(len(names))]
		if !strings.HasPrefix(t, "m-") {
			c.jsonFile = fmt.Sprintf(`{"variable": {"V0": {"default": %q}}, "target": {%q: {"args": {"J": "${upper(V0)}"}, "labels": {"from-json": "${V0}-j"}}}}`, pick("json", "j2"), t)
			used()
			used()
		}
	}
	for range rng.IntN(3) {
		t := names[rng.IntN(len(names))]
		switch rng.IntN(4) {
		case 0:
			c.sets = append(c.sets, t+".args.SET="+pick("s1", "s2"))
		case 1:
			c.sets = append(c.sets, "*.platform=linux/amd64")
		case 2:
			// Each its own tag: two targets writing one tag is a
			// deliberate difference (docs/import.md), not one to find.
			c.sets = append(c.sets, t+".tags=registry.example.com/set-"+t+":"+pick("a", "b"))
		default:
			c.sets = append(c.sets, t+".labels.from-set="+pick("l1", "l2"))
		}
		used()
	}

	// Now and then, something bake refuses.
	if rng.IntN(6) == 0 {
		used()
		switch rng.IntN(4) {
		case 0:
			b.WriteString("target \"bad\" {\n  inherits = [\"nope\"]\n}\n")
			c.names = []string{"bad"}
		case 1:
			b.WriteString("target \"bad\" {\n  args = { X = \"${NOPE}\" }\n}\n")
			c.names = []string{"bad"}
		case 2:
			b.WriteString("group \"bad\" {\n  targets = [\"missing\"]\n}\n")
			c.names = []string{"bad"}
		default:
			b.WriteString("target \"wide\" {\n  platforms = [\"linux/amd64\", \"linux/s390x\"]\n}\ntarget \"bad\" {\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n  contexts = { w = \"target:wide\" }\n}\n")
			c.names = []string{"bad"}
		}
	}
	for _, h := range helpers {
		b.WriteString(h)
	}
	c.file = b.String()
	return c
}

// TestBakeDifferential generates bake files (a fixed seed; BAKEPLAN_FUZZ_BAKE
// sets how many, 300 by default, and BAKEPLAN_FUZZ_BAKE_SEED the seed) and,
// for each, compares docker buildx bake --print with bakeplan import and
// plan: where bake resolves, bakeplan must resolve the same values for
// every target; where bake errors, bakeplan must error too.
func TestBakeDifferential(t *testing.T) {
	buildx := os.Getenv("BAKEPLAN_TEST_BUILDX")
	if buildx == "" {
		testenv.Missing(t, "docker buildx, built from tools/buildx (BAKEPLAN_TEST_BUILDX)")
	}
	n, seed := 300, uint64(1)
	if s := os.Getenv("BAKEPLAN_FUZZ_BAKE"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("BAKEPLAN_FUZZ_BAKE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	var constructs, bakeErrors, differences int
	for i := range n {
		c := genBake(rng)
		constructs += c.constructs
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", "FROM scratch\n")
			bakeFiles := []string{"docker-bake.hcl"}
			abs := []string{writeFile(t, dir, "docker-bake.hcl", c.file)}
			if c.override != "" {
				bakeFiles = append(bakeFiles, "docker-bake.override.hcl")
				abs = append(abs, writeFile(t, dir, "docker-bake.override.hcl", c.override))
			}
			if c.jsonFile != "" {
				bakeFiles = append(bakeFiles, "docker-bake.override.json")
				abs = append(abs, writeFile(t, dir, "docker-bake.override.json", c.jsonFile))
			}
			var flags []string
			for _, s := range c.sets {
				flags = append(flags, "--set", s)
			}
			spec := filepath.Join(dir, "bakeplan.hcl")
			want, bakeOut, bakeErr := bakePrintResult(t, buildx, dir, bakeFiles, nil, append(slices.Clone(flags), c.names...), c.environ)
			importArgs := []string{"import", "--force", "-o", spec, "--native-platform", nativePlatform()}
			for _, f := range abs {
				importArgs = append(importArgs, "-f", f)
			}
			_, importOut, importCode := runWith(t, c.environ, importArgs...)
			if _, err := os.Stat(spec); err == nil && importCode != 0 && strings.Contains(importOut, "does not plan yet") {
				// Import wrote the spec and checked it as the file stands;
				// the run (with its --set) decides, as bake's does.
				importCode = 0
			}
			var got map[string]*resolvedTarget
			planOut, planCode := "", 0
			if importCode == 0 {
				// Planned twice with a syntax cache: the first run parses
				// and keeps the spec's blocks, the second reads them back;
				// both must be what bake resolves.
				cached := append(slices.Clone(c.environ), "BAKEPLAN_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"))
				names := specNames(spec, abs)
				targets := append(slices.Clone(flags), c.names...)
				first, firstOut, firstCode := planBuilds(t, names, cached, nativePlatform(), targets)
				got, planOut, planCode = planBuilds(t, names, cached, nativePlatform(), targets)
				if firstCode != planCode || firstOut != planOut || !reflect.DeepEqual(first, got) {
					differences++
					t.Errorf("planned again from the syntax cache, the result differs:\n%s\nthen:\n%s\n%s", firstOut, planOut, c.file)
				}
			}
			if bakeErr != nil {
				bakeErrors++
				if importCode == 0 && planCode == 0 {
					differences++
					t.Errorf("bake refuses it (%s), bakeplan plans it\n%s\n%s%v", strings.TrimSpace(bakeOut), c.file, c.override+c.jsonFile, c.sets)
				}
				return
			}
			if importCode != 0 || planCode != 0 {
				differences++
				t.Errorf("bake resolves it, bakeplan refuses it:\n%s%s\n%s\n%s%v", importOut, planOut, c.file, c.override+c.jsonFile, c.sets)
				return
			}
			// Targets bake builds only to feed another as a context it
			// prints with a cacheonly output; bakeplan plans them
			// without one. Their values are compared all the same.
			for _, name := range sortedKeys(want) {
				if slices.Equal(want[name].Outputs, []string{"type=cacheonly"}) {
					want[name].Outputs = nil
				}
				g := got[name]
				if g == nil {
					differences++
					t.Errorf("%s: bakeplan planned no build of it\n%s", name, c.file)
					continue
				}
				if d := compareTargets(want[name], g); d != "" {
					differences++
					t.Errorf("%s differs from bake --print:\n%s\n%s\n%s%v", name, d, c.file, c.override+c.jsonFile, c.sets)
				}
			}
		})
	}
	t.Logf("%d cases (seed %d), %.1f constructs per case, %d refused by bake, %d differences", n, seed, float64(constructs)/float64(max(n, 1)), bakeErrors, differences)
}
