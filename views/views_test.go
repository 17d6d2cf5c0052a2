package views_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/apply"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/runtime/solve"
	"github.com/bakeplan/bakeplan/views"
	"github.com/hashicorp/hcl/v2"
)

func TestHostPreview(t *testing.T) {
	emu := &plan.Step{ID: "host.emulator.arm64", Change: &plan.Change{Symbol: "~", Summary: "re-register qemu-aarch64"}}
	dock := &plan.Step{ID: "host.docker.image_store", Change: &plan.Change{Symbol: "~", Summary: "docker image store: overlay2 -> containerd"}}
	var out bytes.Buffer
	views.HostPreview(&out, []host.Action{
		{Step: emu, Writes: []host.Write{{Path: "/b/qemu-aarch64", Content: "-1"}, {Path: "/b/register", Content: ":qemu-aarch64:M::x:y:/usr/bin/qemu-aarch64-static:F"}}},
		{Step: dock, Writes: []host.Write{{Path: "/d.json.bakeplan-backup", From: "/d.json"}, {Path: "/d.json", Content: "{\n  \"a\": 1\n}\n"}}, Run: []string{"systemctl", "restart", "docker"}},
	})
	want := `~ host.emulator.arm64: re-register qemu-aarch64
  write "-1" to /b/qemu-aarch64
  write to /b/register:
    :qemu-aarch64:M::x:y:/usr/bin/qemu-aarch64-static:F
~ host.docker.image_store: docker image store: overlay2 -> containerd
  copy /d.json to /d.json.bakeplan-backup
  write /d.json:
    {
      "a": 1
    }
  run ["systemctl" "restart" "docker"], wait for Docker, check the image store
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestApplySummaryEscapes(t *testing.T) {
	var out bytes.Buffer
	views.ApplySummary(&out, &apply.Summary{
		Builds:    []*apply.BuildResult{{Target: "app", Platforms: []string{"linux/amd64"}, Digest: "sha256:1", Error: "x"}},
		Published: []*apply.Published{{Tag: "r/app:1\x1b[2J", Digest: "sha256:1"}},
	})
	if strings.Contains(out.String(), "\x1b") || !strings.Contains(out.String(), "failed") {
		t.Errorf("%q", out.String())
	}
}

func TestResult(t *testing.T) {
	r := views.NewResult(hcl.Diagnostics{
		{Severity: hcl.DiagWarning, Summary: "w"},
		{Severity: hcl.DiagError, Summary: "e", Subject: &hcl.Range{Filename: "f.hcl", Start: hcl.Pos{Line: 2, Column: 1}, End: hcl.Pos{Line: 2, Column: 3}}},
	}, map[string]*hcl.File{"f.hcl": {Bytes: []byte("a\nbb = 1\n")}})
	if r.Valid || r.ErrorCount != 1 || r.WarningCount != 1 || r.Diagnostics[1].Snippet != "bb = 1" {
		t.Errorf("%+v", r)
	}
	if e := views.ErrorResult(errors.New("boom")); e.Valid || e.Diagnostics[0].Summary != "boom" {
		t.Errorf("%+v", e)
	}
}

// TestDryRunEscapes: a value with a newline or an escape sequence stays on
// its line.
func TestDryRunEscapes(t *testing.T) {
	p := &plan.Plan{Steps: []*plan.Step{{ID: "build.a", Action: plan.ActionBuild, Build: &plan.Build{Target: "a"}}}}
	reqs := []*solve.Request{{Step: "build.a", Target: "a", Frontend: "dockerfile.v0", FrontendAttrs: map[string]string{"label:x": "a\n  local    fake=/etc\x1b[2J"}}}
	var out bytes.Buffer
	if err := views.DryRun(&out, p, reqs, endpoint.Env{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\n  local    fake") || strings.Contains(out.String(), "\x1b") {
		t.Errorf("a value broke out of its line:\n%q", out.String())
	}
}
