package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestHostileValuesAreEscaped feeds terminal control sequences, bidi
// overrides, C1 controls, carriage returns and newlines (and, where a file
// name or a file's bytes carry them, invalid UTF-8) through every kind of
// message: diagnostics the compiler emits (errors and warnings, with their
// source snippets), the plan, and errors. Nothing may reach the output
// raw, and no value may start a line of its own.
func TestHostileValuesAreEscaped(t *testing.T) {
	payloads := map[string]string{
		"csi":    `\u001b[2J`,
		"osc8":   `\u001b]8;;http://evil.example\u0007link\u001b]8;;\u0007`,
		"bidi":   `\u202e`,
		"c1":     `\u009b31m`,
		"cr":     `\r`,
		"bell":   `\u0007`,
		"zwj":    `\u200d`,
		"nl":     ``, // the newline every payload ends with
		"dquote": `\"`,
	}
	// Each case puts P (an HCL string's inside) somewhere a value goes.
	cases := []struct {
		name  string
		spec  string
		files map[string]string
	}{
		{name: "undeclared arg key", spec: `target "app" {
  args = { "KP" = "v" }
}`},
		{name: "arg value", spec: `target "app" {
  args = { V = "P" }
}`, files: map[string]string{"Dockerfile": "FROM scratch\nARG V\n"}},
		{name: "label", spec: `target "app" {
  labels = { "kP" = "P" }
}`},
		{name: "annotation", spec: `target "app" {
  annotations = [ "kP=P" ]
}`},
		{name: "target name", spec: `target "aP" {}`},
		{name: "derived attribute", spec: `target "app" {
  hostname = "hP"
}`},
		{name: "tag", spec: `target "app" {
  tags = ["example.com/aP:1"]
}`},
		{name: "platform", spec: `target "app" {
  platforms = ["linux/P"]
}`},
		{name: "dockerfile path", spec: `target "app" {
  dockerfile = "DP"
}`},
		{name: "context path", spec: `target "app" {
  context = "cP"
}`},
		{name: "validation message", spec: `variable "v" {
  default = "x"
  validation {
    condition     = false
    error_message = "badP"
  }
}
target "app" {}`},
		{name: "group member", spec: `group "default" {
  targets = ["nP"]
}
target "app" {}`},
		{name: "secret id", spec: `target "app" {
  secret = ["id=P,env=X"]
}`},
		{name: "variable in a tag", spec: `variable "v" {
  default = "P"
}
target "app" {
  tags = ["example.com/${v}:1"]
}`},
		{name: "named context", spec: `target "app" {
  contexts = { "nP" = "missingP" }
}`},
		{name: "output dest", spec: `target "app" {
  output = ["type=local,dest=/proc/P/x"]
}`},
	}
	for _, c := range cases {
		for pname, p := range payloads {
			t.Run(c.name+"/"+pname, func(t *testing.T) {
				dir := t.TempDir()
				spec := strings.ReplaceAll(c.spec, "P", p+`\nFORGED`)
				files := map[string]string{"Dockerfile": "FROM scratch\n", "bakeplan.hcl": spec + "\n"}
				for k, v := range c.files {
					files[k] = v
				}
				for name, body := range files {
					writeFile(t, dir, name, body)
				}
				checkOutput(t, filepath.Join(dir, "bakeplan.hcl"))
			})
		}
	}
}

// TestHostileFilesAreEscaped: file names and file bytes that are not UTF-8
// or hold control characters: a context holding such files plans (BuildKit
// sends them), and a spec or Dockerfile holding such bytes is reported
// with its snippet made safe.
func TestHostileFilesAreEscaped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
	}{
		{"context file names", map[string]string{"bakeplan.hcl": "target \"app\" {}\n", "Dockerfile": "FROM scratch\nCOPY . /\n",
			"bad\xff\xfe.txt": "x", "esc\x1b[2J\nFORGED.txt": "x", "bidi\u202e.txt": "x"}},
		{"spec bytes", map[string]string{"bakeplan.hcl": "# \x1b[2J\u202e\xff\ntarget \"app\" {\n  bogus\x1b[2J = 1\n}\n", "Dockerfile": "FROM scratch\n"}},
		{"Dockerfile bytes", map[string]string{"bakeplan.hcl": "target \"app\" {}\n", "Dockerfile": "FROM scratch\nBOGUS\x1b[2J\u202e\xff x\nCOPY \x1b]8;;x\x07 /\n"}},
		{"dockerignore bytes", map[string]string{"bakeplan.hcl": "target \"app\" {}\n", "Dockerfile": "FROM scratch\nCOPY . /\n", ".dockerignore": "[\x1b[2J\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := checkOutput(t, filepath.Join(dir, "bakeplan.hcl"))
			if tc.name == "context file names" && !strings.Contains(out, "Plan: ") {
				t.Errorf("a context with such file names does not plan:\n%s", out)
			}
		})
	}
}

// checkOutput runs validate and an offline plan of spec and fails when
// their output (stdout and stderr) holds anything unsafe for a terminal.
func checkOutput(t *testing.T, spec string) string {
	t.Helper()
	var all strings.Builder
	for _, args := range [][]string{{"validate", "-f", spec}, {"plan", "--offline", "-f", spec}} {
		out, errOut, _ := bakeplan(t, args...)
		all.WriteString(out)
		all.WriteString(errOut)
	}
	got := all.String()
	checkText(t, got)
	return got
}

// checkText fails when got holds anything unsafe for a terminal, or a
// line a value started.
func checkText(t *testing.T, got string) {
	t.Helper()
	if !utf8.ValidString(got) {
		t.Errorf("the output is not UTF-8:\n%q", got)
	}
	for _, r := range got {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e || r == 0x200d {
			t.Errorf("the output holds %U raw:\n%q", r, got)
			break
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " │"), "FORGED") {
			t.Errorf("a value starts a line of its own: %q\n%s", l, got)
			break
		}
	}
}

// TestHostileRuntimeMessages: values that reach apply's own errors (a
// secret's variable and file, checked before anything is built) are shown
// as safely as diagnostics.
func TestHostileRuntimeMessages(t *testing.T) {
	for name, secret := range map[string]string{
		"env":  `secret = ["id=s,env=EP"]`,
		"file": `secret = ["id=s,src=/nonexistentP"]`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "Dockerfile", "FROM scratch\n")
			spec := writeFile(t, dir, "bakeplan.hcl", "target \"app\" {\n  "+strings.ReplaceAll(secret, "P", `\u001b[2J\u202e\nFORGED`)+"\n}\n")
			out, errOut, code := bakeplan(t, "apply", "--offline", "--auto-approve", "--progress", "quiet", "-f", spec)
			if code == 0 {
				t.Fatalf("apply with a missing secret succeeded:\n%s%s", out, errOut)
			}
			checkText(t, out+errOut)
		})
	}
}
