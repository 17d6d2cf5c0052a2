package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testdocker"
	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/runtime/host"
)

func writeSpec(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "bakeplan.hcl")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func needRootBinfmt(t *testing.T) {
	t.Helper()
	testenv.Get(t)
	if _, err := os.Stat("/usr/lib/binfmt.d/qemu-riscv64.conf"); err != nil || os.Geteuid() != 0 {
		testenv.Missing(t, "root and qemu-user-static")
	}
}

// TestEmulatorDriftAndFix: plan shows a missing emulator as a change (exit
// 2 with --detailed-exitcode), apply registers it with approval, plan then
// shows no change, and host uninstall removes it. riscv64 keeps out of the
// way of the arm64 builds other tests run.
func TestEmulatorDriftAndFix(t *testing.T) {
	needRootBinfmt(t)
	testenv.ChangesBinfmt(t)
	b := host.DefaultBinfmt()
	b.Unregister("qemu-riscv64")
	t.Cleanup(func() { b.Unregister("qemu-riscv64") })
	env := []string{"BUILDKIT_HOST=" + os.Getenv("BAKEPLAN_TEST_BUILDKIT")}
	spec := writeSpec(t, "host {\n  emulators = [\"riscv64\"]\n}\n")

	out, errOut, code := runWith(t, env, "plan", "-f", spec, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "+   host.emulator.riscv64: register qemu-riscv64") || !strings.Contains(out, "Host: 1 to add, 0 to change, 0 to replace.") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}

	js, _, code := runWith(t, env, "plan", "-f", spec, "--json", "--detailed-exitcode")
	if code != 2 || !strings.Contains(js, `"symbol": "+"`) || !strings.Contains(js, `"summary": "register qemu-riscv64`) {
		t.Fatalf("plan --json does not carry the change: exit %d\n%s", code, js)
	}

	out, _, code = runWith(t, env, "apply", "-f", spec, "--dry-run")
	if code != 0 || !strings.Contains(out, "write to /proc/sys/fs/binfmt_misc/register:") || !strings.Contains(out, ":qemu-riscv64:M:") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if b.Probe(context.Background(), "riscv64", "qemu-riscv64").Registered {
		t.Fatal("a dry run registered the emulator")
	}

	// Without approval nothing changes.
	_, errOut, code = runWith(t, env, "apply", "-f", spec)
	if code != 1 || !strings.Contains(errOut, "not approved") || b.Probe(context.Background(), "riscv64", "qemu-riscv64").Registered {
		t.Fatalf("apply without a yes: exit %d, %s", code, errOut)
	}

	_, errOut, code = runWith(t, env, "apply", "-f", spec, "--auto-approve")
	if code != 0 {
		t.Fatalf("apply: exit %d: %s", code, errOut)
	}
	if !b.Probe(context.Background(), "riscv64", "qemu-riscv64").OK() {
		t.Fatal("apply did not register a working emulator")
	}
	out, _, code = runWith(t, env, "plan", "-f", spec, "--detailed-exitcode")
	if code != 0 || !strings.Contains(out, "Host: no changes") {
		t.Fatalf("plan after apply: exit %d\n%s", code, out)
	}

	out, _, code = runWith(t, env, "host", "uninstall", "riscv64", "--auto-approve")
	if code != 0 || b.Probe(context.Background(), "riscv64", "qemu-riscv64").Registered {
		t.Fatalf("uninstall: exit %d %s", code, out)
	}
}

// TestImageStoreSwitch: against a Docker Engine on a graph-driver store, plan
// shows the destructive switch; apply refuses it without
// --allow-destructive, then switches through the given restart command.
func TestImageStoreSwitch(t *testing.T) {
	d := testdocker.StartGraphDriver(t)
	env := []string{"DOCKER_HOST=" + d.Host, "BUILDKIT_HOST=" + os.Getenv("BAKEPLAN_TEST_BUILDKIT")}
	// The spec names the engine's daemon.json and restart command; the
	// --docker-config and --docker-restart-command flags would override them.
	spec := writeSpec(t, fmt.Sprintf("host {\n  docker {\n    image_store = \"containerd\"\n    daemon_config = %q\n    restart_command = [%q]\n  }\n}\n", d.DaemonJSON, d.Restart[0]))
	flags := []string{"-f", spec}

	out, errOut, code := runWith(t, env, append([]string{"plan", "--detailed-exitcode"}, flags...)...)
	if code != 2 || !strings.Contains(out, "~   host.docker.image_store: docker image store: vfs -> containerd") || !strings.Contains(out, "# destructive") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	before, _ := os.ReadFile(d.DaemonJSON)

	// A dry run shows the exact daemon.json it would write, and writes nothing.
	out, _, code = runWith(t, env, append([]string{"apply", "--dry-run"}, flags...)...)
	if code != 0 || !strings.Contains(out, "write "+d.DaemonJSON+":") || !strings.Contains(out, `"containerd-snapshotter": true`) ||
		!strings.Contains(out, `"storage-driver": "native"`) || !strings.Contains(out, `"log-level": "warn"`) {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(d.DaemonJSON); string(after) != string(before) {
		t.Fatal("a dry run changed daemon.json")
	}

	_, errOut, code = runWith(t, env, append([]string{"apply", "--auto-approve"}, flags...)...)
	if code != 1 || !strings.Contains(errOut, "--allow-destructive") {
		t.Fatalf("apply without --allow-destructive: exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(d.DaemonJSON); string(after) != string(before) {
		t.Fatal("a refused apply changed daemon.json")
	}

	_, errOut, code = runWith(t, env, append([]string{"apply", "--auto-approve", "--allow-destructive"}, flags...)...)
	if code != 0 {
		log, _ := os.ReadFile(d.Dir + "/docker.log")
		t.Fatalf("apply: exit %d: %s\n%s", code, errOut, log)
	}
	if st := host.ProbeDocker(context.Background(), d.Host); !st.ContainerdStore {
		t.Fatalf("docker info after apply: %+v", st)
	}
	out, _, code = runWith(t, env, append([]string{"plan", "--detailed-exitcode"}, flags...)...)
	if code != 0 {
		t.Fatalf("plan after the switch: exit %d\n%s", code, out)
	}
}

// TestUnfixableRequirementPointsAtTheSpec: a builder that does not answer is
// an error at the line that declared it.
func TestUnfixableRequirementPointsAtTheSpec(t *testing.T) {
	spec := writeSpec(t, "\n\nbuilder \"gone\" {\n  endpoint = \"unix:///nonexistent/buildkitd.sock\"\n}\n")
	_, errOut, code := runWith(t, nil, "plan", "-f", spec)
	if code != 1 || !strings.Contains(errOut, "Builder gone is not reachable") || !strings.Contains(errOut, "line 3") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

// TestProbeErrorNamesItsBlock: the source snippet of a probe error names the
// block that declared the failing requirement, not the file's first block.
func TestProbeErrorNamesItsBlock(t *testing.T) {
	spec := writeSpec(t, "variable \"NONCE\" {\n  default = \"x\"\n}\nregistry \"secure\" {\n  host = \"127.0.0.1:1\"\n}\nbuilder \"gone\" {\n  endpoint = \"unix:///nonexistent/buildkitd.sock\"\n}\n")
	_, errOut, code := runWith(t, nil, "plan", "-f", spec)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	for _, want := range []string{`line 4, in registry "secure"`, `line 7, in builder "gone"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("no %q in:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "in variable") {
		t.Errorf("a probe error is placed in the variable block:\n%s", errOut)
	}
}

// TestHostOnlySpecProbesNoBuilder: a spec with only a host block (what
// scripts/testenv applies before any BuildKit runs) plans without a
// builder: the implicit default builder that no build uses is not probed.
func TestHostOnlySpecProbesNoBuilder(t *testing.T) {
	spec := writeSpec(t, "host {\n}\n")
	env := []string{"BUILDKIT_HOST=unix:///nonexistent/buildkitd.sock", "DOCKER_HOST=unix:///nonexistent/docker.sock"}
	out, errOut, code := runWith(t, env, "plan", "-f", spec)
	if code != 0 || strings.Contains(out, "builder.default") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
