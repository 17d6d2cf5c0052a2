package render_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/render"
)

func TestHostDrift(t *testing.T) {
	p := &plan.Plan{Spec: plan.Spec{File: "bakeplan.hcl", Digest: "sha256:0123456789abcdef"}, Steps: []*plan.Step{
		{ID: "host.docker.image_store", Action: plan.ActionEnsure, Docker: &plan.DockerRequirement{ImageStore: "containerd"},
			Change: &plan.Change{Symbol: "~", Summary: "docker image store: overlay2 -> containerd", Destructive: true, Note: "restarts Docker"}},
		{ID: "host.emulator.arm64", Action: plan.ActionEnsure, Emulator: &plan.Emulator{Arch: "arm64", Interpreter: "qemu-aarch64", Flags: "F"},
			Change: &plan.Change{Symbol: "+", Summary: "register qemu-aarch64 (interpreter /usr/bin/qemu-aarch64-static, flags F)"}},
		{ID: "builder.default", Action: plan.ActionNoop, Builder: &plan.Builder{Name: "default", Endpoint: "auto", Local: true},
			Observed: map[string]string{"buildkit": "v0.34.2"}},
	}}
	var out bytes.Buffer
	if err := render.Text(&out, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"~   host.docker.image_store: docker image store: overlay2 -> containerd  (restarts Docker)  # destructive",
		"+   host.emulator.arm64: register qemu-aarch64 (interpreter /usr/bin/qemu-aarch64-static, flags F)",
		"=   builder.default: buildkit v0.34.2",
		"Host: 1 to add, 1 to change, 0 to replace. 1 destructive (apply needs --allow-destructive).",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in:\n%s", want, out.String())
		}
	}
}

func TestNoDriftSectionOffline(t *testing.T) {
	p := &plan.Plan{Steps: []*plan.Step{{ID: "builder.default", Action: plan.ActionCheck, Builder: &plan.Builder{Name: "default"}}}}
	var out bytes.Buffer
	render.Text(&out, p)
	if strings.Contains(out.String(), "Host, as probed") {
		t.Errorf("an offline plan shows a host section:\n%s", out.String())
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 builds", 1: "1 build", 2: "2 builds"} {
		if got := render.Count(n, "build"); got != want {
			t.Errorf("Count(%d) = %q", n, got)
		}
	}
	if got := render.Count(3, "publish"); got != "3 publishes" {
		t.Errorf("Count(3, publish) = %q", got)
	}
}

// TestHostileValuesStayOnTheirLine: label keys, args and tags with escape
// sequences, newlines or bidi overrides are shown escaped, in every view.
func TestHostileValuesStayOnTheirLine(t *testing.T) {
	p := &plan.Plan{Spec: plan.Spec{File: "bakeplan.hcl", Digest: "sha256:0123456789abcdef"}, Steps: []*plan.Step{
		{ID: "build.app", Action: plan.ActionBuild, Build: &plan.Build{
			Target: "app", Builder: "default", Context: "ctx\n  build   build.fake", Platforms: []plan.PlatformRun{{Platform: "linux/amd64", Native: true}},
			Labels:   map[string]string{"\x1b]0;owned\x07\x1b[2Jkey": "v"},
			Args:     map[string]string{"A\nB": "\u202eevil"},
			Contexts: []*plan.NamedContext{{Name: "src\"|<b>", Path: "src"}},
		}},
		{ID: "publish.app", Action: plan.ActionPublish, Publish: &plan.Publish{Target: "app", Tags: []string{"r/app:1\x1b[A"}},
			Needs: []plan.Edge{{Step: "build.app", Kind: plan.EdgeData, Name: "src\"|<b>"}}},
	}}
	views := map[string]func(*bytes.Buffer) error{
		"text":    func(b *bytes.Buffer) error { return render.Text(b, p) },
		"mermaid": func(b *bytes.Buffer) error { return render.Mermaid(b, p) },
		"dot":     func(b *bytes.Buffer) error { return render.Dot(b, p) },
	}
	for name, view := range views {
		var out bytes.Buffer
		if err := view(&out); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(out.String(), "\x1b\x07\u202e") {
			t.Errorf("%s: a raw control character:\n%q", name, out.String())
		}
		if strings.Contains(out.String(), "\n  build   build.fake") {
			t.Errorf("%s: a value added a line:\n%s", name, out.String())
		}
		if name == "mermaid" && strings.Contains(out.String(), "<b>") {
			t.Errorf("mermaid: markup from a value:\n%s", out.String())
		}
	}
}
