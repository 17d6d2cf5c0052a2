package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestBakeParserPort ports the cases of buildx's bake parser tests
// (bake/hcl_test.go at v0.38.2) that apply to a bakeplan spec: each bake
// file, written here after the case it is named for, is imported and
// planned, and the plan must hold what buildx's test expects of bake.
// The cases that behave differently on purpose are listed in
// docs/import.md and below, with the reason.
func TestBakeParserPort(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string // bake files, imported in name order
		env     []string          // bare NAME=VALUE, as bake reads them
		targets []string
		want    map[string]string // "target.field" -> the field as JSON
		err     string            // or: import or plan fails saying this
	}{
		{
			name: "TestHCLBasic",
			files: map[string]string{"docker-bake.hcl": `group "default" {
  targets = ["db", "webapp"]
}
target "db" {
  context = "./db"
  tags    = ["docker.io/tonistiigi/db"]
}
target "webapp" {
  context    = "./dir"
  dockerfile = "Dockerfile-alternate"
  args = {
    buildno = "123"
  }
}
target "cross" {
  platforms = ["linux/amd64", "linux/arm64"]
}
target "webapp-plus" {
  inherits = ["webapp", "cross"]
  args = {
    IAMCROSS = "true"
  }
}
`},
			targets: []string{"db", "webapp", "webapp-plus"},
			want: map[string]string{
				"db.Tags":               `["docker.io/tonistiigi/db:latest"]`,
				"db.Context":            `"db"`,
				"webapp.Dockerfile":     `"dir/Dockerfile-alternate"`,
				"webapp-plus.Args":      `{"IAMCROSS":"true","buildno":"123"}`,
				"webapp-plus.Platforms": `["linux/amd64","linux/arm64"]`,
			},
		},
		{
			name: "TestHCLBasicInJSON",
			files: map[string]string{"docker-bake.json": `{
  "group": {"default": {"targets": ["db", "webapp"]}},
  "target": {
    "db": {"context": "./db", "tags": ["docker.io/tonistiigi/db"]},
    "webapp": {"context": "./dir", "dockerfile": "Dockerfile-alternate", "args": {"buildno": "123"}}
  }
}`},
			targets: []string{"db", "webapp"},
			want: map[string]string{
				"db.Tags":     `["docker.io/tonistiigi/db:latest"]`,
				"webapp.Args": `{"buildno":"123"}`,
			},
		},
		{
			name: "TestHCLWithFunctions",
			files: map[string]string{"docker-bake.hcl": `target "webapp" {
  args = {
    buildno = "${add(123, 1)}"
  }
}
`},
			targets: []string{"webapp"},
			want:    map[string]string{"webapp.Args": `{"buildno":"124"}`},
		},
		{
			name: "TestHCLWithUserDefinedFunctions",
			files: map[string]string{"docker-bake.hcl": `function "increment" {
  params = [number]
  result = number + 1
}
target "webapp" {
  args = {
    buildno = "${increment(123)}"
  }
}
`},
			targets: []string{"webapp"},
			want:    map[string]string{"webapp.Args": `{"buildno":"124"}`},
		},
		{
			name: "TestHCLWithVariables",
			files: map[string]string{"docker-bake.hcl": `variable "BUILD_NUMBER" {
  default = "123"
}
target "webapp" {
  args = {
    buildno = "${BUILD_NUMBER}"
  }
}
`},
			env:     []string{"BUILD_NUMBER=456"},
			targets: []string{"webapp"},
			want:    map[string]string{"webapp.Args": `{"buildno":"456"}`},
		},
		{
			name: "TestHCLWithVariablesInFunctions",
			files: map[string]string{"docker-bake.hcl": `variable "REPO" {
  default = "user/repo"
}
function "tag" {
  params = [tag]
  result = ["${REPO}:${tag}"]
}
target "webapp" {
  tags = tag("v1")
}
`},
			env:     []string{"REPO=docker/buildx"},
			targets: []string{"webapp"},
			want:    map[string]string{"webapp.Tags": `["docker.io/docker/buildx:v1"]`},
		},
		{
			name: "TestHCLMultiFileSharedVariables",
			files: map[string]string{
				"a.hcl": `variable "FOO" {
  default = "abc"
}
target "app" {
  args = {
    v1 = "pre-${FOO}"
  }
}
`,
				"b.hcl": `target "other" {
  args = {
    v2 = "${FOO}-post"
  }
}
`,
			},
			env:     []string{"FOO=def"},
			targets: []string{"app", "other"},
			want:    map[string]string{"app.Args": `{"v1":"pre-def"}`, "other.Args": `{"v2":"def-post"}`},
		},
		{
			name: "TestHCLVarsWithVars",
			files: map[string]string{"docker-bake.hcl": `variable "FOO" {
  default = upper("${BASE}def")
}
variable "BAR" {
  default = "-${FOO}-"
}
variable "BASE" {
  default = "abc"
}
target "app" {
  args = {
    v1 = "pre-${BAR}"
  }
}
`},
			env:     []string{"BASE=new"},
			targets: []string{"app"},
			want:    map[string]string{"app.Args": `{"v1":"pre--NEWDEF-"}`},
		},
		{
			name: "TestHCLVarsWithVars (two files, a target in both)",
			files: map[string]string{
				"c1.hcl": `variable "FOO" {
  default = upper("${BASE}def")
}
variable "BAR" {
  default = "-${FOO}-"
}
target "app" {
  args = {
    v1 = "pre-${BAR}"
  }
}
`,
				"c2.hcl": `variable "BASE" {
  default = "abc"
}
target "app" {
  args = {
    v2 = "${FOO}-post"
  }
}
`,
			},
			env:     []string{"BASE=new"},
			targets: []string{"app"},
			want:    map[string]string{"app.Args": `{"v1":"pre--NEWDEF-","v2":"NEWDEF-post"}`},
		},
		{
			name: "TestHCLMultiFileAttrs",
			files: map[string]string{
				"c1.hcl": `variable "FOO" {
  default = "abc"
}
target "app" {
  args = {
    v1 = "pre-${FOO}"
  }
}
`,
				"c2.hcl": "FOO=\"def\"\n",
			},
			targets: []string{"app"},
			want:    map[string]string{"app.Args": `{"v1":"pre-def"}`},
		},
		{
			name: "TestHCLTypedVariables",
			files: map[string]string{"docker-bake.hcl": `variable "FOO" {
  default = 3
}
variable "IS_FOO" {
  default = true
}
target "app" {
  args = {
    v1 = FOO > 5 ? "higher" : "lower"
    v2 = IS_FOO ? "yes" : "no"
  }
}
`},
			env:     []string{"FOO=5.1", "IS_FOO=0"},
			targets: []string{"app"},
			want:    map[string]string{"app.Args": `{"v1":"higher","v2":"no"}`},
		},
		{
			name: "TestHCLTypedVariables (a number that does not parse)",
			files: map[string]string{"docker-bake.hcl": `variable "FOO" {
  default = 3
}
target "app" {
  args = {
    v1 = FOO > 5 ? "higher" : "lower"
  }
}
`},
			env:     []string{"FOO=NaN"},
			targets: []string{"app"},
			err:     "FOO",
		},
		{
			name: "TestHCLNullVariables",
			files: map[string]string{"docker-bake.hcl": `variable "FOO" {
  default = null
}
target "default" {
  args = {
    foo = FOO
  }
}
`},
			targets: []string{"default"},
			want:    map[string]string{"default.Args": `{}`},
		},
		{
			name: "TestHCLVariableCycle",
			files: map[string]string{"docker-bake.hcl": `variable "FOO" {
  default = BAR
}
variable "FOO2" {
  default = FOO
}
variable "BAR" {
  default = FOO
}
target "app" {}
`},
			targets: []string{"app"},
			err:     "Cycle in variable defaults",
		},
		{
			name: "TestHCLUndefinedVariable",
			files: map[string]string{"docker-bake.hcl": `target "app" {
  args = {
    foo = FOO
  }
}
`},
			targets: []string{"app"},
			err:     "FOO",
		},
		{
			name: "TestHCLAttrs",
			files: map[string]string{"docker-bake.hcl": `FOO="abc"
BAR="attr-${FOO}def"
target "app" {
  args = {
    "v1": BAR
  }
}
`},
			targets: []string{"app"},
			want:    map[string]string{"app.Args": `{"v1":"attr-abcdef"}`},
		},
		{
			name: "TestHCLTargetAttrs",
			files: map[string]string{"docker-bake.hcl": `target "foo" {
  dockerfile = "xxx"
  context    = target.bar.target
  target     = target.foo.dockerfile
}
target "bar" {
  dockerfile = target.foo.tags[0]
  tags       = ["example/foo"]
  target     = "dir"
}
`},
			targets: []string{"foo"},
			err:     "target.bar",
		},
		{
			name: "TestHCLMatrixBasic",
			files: map[string]string{"docker-bake.hcl": `target "default" {
  matrix = {
    foo = ["x", "y"]
  }
  name       = foo
  dockerfile = "${foo}.Dockerfile"
}
`},
			targets: []string{"x", "y"},
			want:    map[string]string{"x.Dockerfile": `"x.Dockerfile"`, "y.Dockerfile": `"y.Dockerfile"`},
		},
		{
			name: "TestHCLMatrixMultipleKeys",
			files: map[string]string{"docker-bake.hcl": `target "default" {
  matrix = {
    foo = ["a"]
    bar = ["b", "c"]
    baz = ["d", "e", "f"]
  }
  name = "${foo}-${bar}-${baz}"
}
`},
			targets: []string{"a-b-d", "a-c-f"},
			want:    map[string]string{"a-b-d.Stage": `""`, "a-c-f.Stage": `""`},
		},
		{
			name: "TestHCLMatrixMaps",
			files: map[string]string{"docker-bake.hcl": `target "foo" {
  matrix = {
    aa = [
      { foo = "aa", bar = "bb" },
      { foo = "cc", bar = "dd" },
    ]
  }
  name = aa.foo
  args = {
    target = "val${aa.bar}"
  }
}
`},
			targets: []string{"aa", "cc"},
			want:    map[string]string{"aa.Args": `{"target":"valbb"}`, "cc.Args": `{"target":"valdd"}`},
		},
		{
			name: "TestHCLMatrixArgsOverride",
			files: map[string]string{"docker-bake.hcl": `variable "ABC" {
  default = "def"
}
target "bar" {
  matrix = {
    aa = split(",", ABC)
  }
  name = "bar-${aa}"
  args = {
    foo = aa
  }
}
`},
			env:     []string{"ABC=11,22,33"},
			targets: []string{"bar-11", "bar-33"},
			want:    map[string]string{"bar-11.Args": `{"foo":"11"}`, "bar-33.Args": `{"foo":"33"}`},
		},
		{
			name: "TestHCLMatrixDuplicateNames",
			files: map[string]string{"docker-bake.hcl": `target "default" {
  matrix = {
    foo = ["a", "b"]
  }
  name = "c"
}
`},
			targets: []string{"c"},
			err:     "c",
		},
		{
			name: "TestHCLIndexOfFunc",
			files: map[string]string{"docker-bake.hcl": `variable "APP_VERSIONS" {
  default = ["1.42.4", "1.42.3"]
}
target "default" {
  args = {
    APP_VERSION = app_version
  }
  matrix = {
    app_version = APP_VERSIONS
  }
  name = "app-${replace(app_version, ".", "-")}"
  tags = [
    "app:${app_version}",
    indexof(APP_VERSIONS, app_version) == 0 ? "app:latest" : "",
  ]
}
`},
			targets: []string{"app-1-42-4"},
			want:    map[string]string{"app-1-42-4.Tags": `["docker.io/library/app:1.42.4","docker.io/library/app:latest"]`},
		},
		{
			name: "TestEmptyVariable",
			files: map[string]string{"docker-bake.hcl": `variable "FOO" {}
target "default" {}
`},
			targets: []string{"default"},
			want:    map[string]string{"default.Stage": `""`},
		},
		{
			name: "TestFunctionNoParams",
			files: map[string]string{"docker-bake.hcl": `function "foo" {
  result = "bar"
}
target "foo_target" {
  args = {
    test = foo()
  }
}
`},
			targets: []string{"foo_target"},
			err:     "params",
		},
		{
			name: "TestTypedVarOverrides (a CSV list)",
			files: map[string]string{"docker-bake.hcl": `variable "FOO" {
  type = list(number)
}
target "default" {
  args = {
    foo = join("-", [for v in FOO : v + 1])
  }
}
`},
			env:     []string{"FOO=3,1,4"},
			targets: []string{"default"},
			want:    map[string]string{"default.Args": `{"foo":"4-2-5"}`},
		},
		{
			name: "bake's reverse and reverselist (stdlib.go)",
			files: map[string]string{"docker-bake.hcl": `variable "V" {
  default = "abc"
}
target "app" {
  args = {
    R = reverse(V)
    L = join(",", reverselist(["x", reverse("yz")]))
    S = semvercmp("1.4.2", ">= 1.2, < 2") ? "yes" : "no"
  }
}
`},
			targets: []string{"app"},
			want:    map[string]string{"app.Args": `{"L":"zy,x","R":"cba","S":"yes"}`},
		},
		{
			name: "TestHCLFunctionInAttr",
			files: map[string]string{"docker-bake.hcl": `function "brace" {
  params = [inp]
  result = "[${inp}]"
}
function "myupper" {
  params = [val]
  result = "${upper(val)} <> ${brace(v2)}"
}
variable "v1" {
  default = "foo"
}
variable "v2" {
  default = "bar"
}
target "app" {
  args = {
    v1 = myupper(v1)
  }
}
`},
			targets: []string{"app"},
			want:    map[string]string{"app.Args": `{"v1":"FOO \u003c\u003e [bar]"}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", "FROM scratch\n")
			writeFile(t, dir, "Dockerfile-alternate", "FROM scratch\n")
			for _, d := range []string{"db", "dir"} {
				writeFile(t, dir, filepath.Join(d, "Dockerfile"), "FROM scratch\n")
				writeFile(t, dir, filepath.Join(d, "Dockerfile-alternate"), "FROM scratch\n")
			}
			for _, n := range []string{"x", "y"} {
				writeFile(t, dir, n+".Dockerfile", "FROM scratch\n")
			}
			out := filepath.Join(dir, "bakeplan.hcl")
			args := []string{"import", "-o", out, "--native-platform", "linux/amd64"}
			var bakeFiles []string
			for _, name := range sortedKeys(tc.files) {
				bakeFiles = append(bakeFiles, writeFile(t, dir, name, tc.files[name]))
				args = append(args, "-f", bakeFiles[len(bakeFiles)-1])
			}
			_, stderr, code := runWith(t, tc.env, args...)
			var got map[string]*resolvedTarget
			if code == 0 {
				got, stderr, code = planBuilds(t, specNames(out, bakeFiles), tc.env, "linux/amd64", tc.targets)
			}
			if tc.err != "" {
				if code == 0 || !strings.Contains(stderr, tc.err) {
					t.Errorf("want a failure naming %q; exit %d\n%s", tc.err, code, stderr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for key, want := range tc.want {
				name, field, _ := strings.Cut(key, ".")
				r := got[name]
				if r == nil {
					t.Errorf("%s: no build planned", name)
					continue
				}
				var fields map[string]json.RawMessage
				b, _ := json.Marshal(r)
				_ = json.Unmarshal(b, &fields)
				if g := string(fields[field]); g != want {
					t.Errorf("%s: %s, want %s", key, g, want)
				}
			}
		})
	}
}
