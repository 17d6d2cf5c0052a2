package host_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/runtime/host"
)

// graphDriverDocker starts a Docker Engine of its own on the classic
// graph-driver image store, with a script that restarts it the way
// systemctl restart docker would.
type graphDriverDocker struct {
	dir, host, daemonJSON string
	restart               []string
}

func startGraphDriverDocker(t *testing.T) *graphDriverDocker {
	t.Helper()
	bin, containerd := os.Getenv("BAKEPLAN_TEST_BIN"), os.Getenv("BAKEPLAN_TEST_CONTAINERD")
	if bin == "" || containerd == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but the test environment is not")
		}
		t.Skip("no test environment; run eval \"$(scripts/testenv up)\"")
	}
	dir, err := os.MkdirTemp("/tmp", "bp-dkr-")
	if err != nil {
		t.Fatal(err)
	}
	d := &graphDriverDocker{dir: dir, host: "unix://" + dir + "/docker.sock", daemonJSON: dir + "/daemon.json"}
	if err := os.WriteFile(d.daemonJSON, []byte(`{"storage-driver": "vfs", "log-level": "warn"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ns := filepath.Base(dir)
	start := `#!/bin/sh
cd "` + dir + `"
PATH="` + bin + `:$PATH" nohup "` + bin + `/dockerd" --containerd "` + containerd + `" \
  --containerd-namespace ` + ns + ` --containerd-plugins-namespace ` + ns + `-plugins \
  --data-root "` + dir + `/data" --exec-root "` + dir + `/exec" --pidfile "` + dir + `/docker.pid" \
  -H "` + d.host + `" --config-file "` + d.daemonJSON + `" --bridge=none --iptables=false --ip6tables=false \
  --userland-proxy=false >>"` + dir + `/docker.log" 2>&1 &
`
	stop := `#!/bin/sh
pid=$(cat "` + dir + `/docker.pid" 2>/dev/null) || exit 0
kill "$pid" 2>/dev/null
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
`
	os.WriteFile(dir+"/start.sh", []byte(start), 0o755)
	os.WriteFile(dir+"/stop.sh", []byte(stop), 0o755)
	os.WriteFile(dir+"/restart.sh", []byte("#!/bin/sh\n\""+dir+"/stop.sh\"\n\""+dir+"/start.sh\"\n"), 0o755)
	d.restart = []string{dir + "/restart.sh"}
	if out, err := exec.Command(dir + "/start.sh").CombinedOutput(); err != nil {
		t.Fatalf("starting dockerd: %v %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(dir + "/stop.sh").Run()
		os.RemoveAll(dir)
	})
	for i := 0; i < 120; i++ {
		if host.ProbeDocker(context.Background(), d.host).Reachable {
			return d
		}
		time.Sleep(500 * time.Millisecond)
	}
	log, _ := os.ReadFile(dir + "/docker.log")
	t.Fatalf("dockerd did not come up:\n%s", log)
	return nil
}

func TestSwitchImageStore(t *testing.T) {
	d := startGraphDriverDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	st := host.ProbeDocker(ctx, d.host)
	if st.ContainerdStore || st.Driver != "vfs" {
		t.Fatalf("a graph-driver engine probed as %+v", st)
	}

	cfg := host.DaemonConfig{Path: d.daemonJSON, RestartCommand: d.restart}
	if err := host.SwitchToContainerdStore(ctx, cfg, d.host); err != nil {
		log, _ := os.ReadFile(d.dir + "/docker.log")
		t.Fatalf("switching: %v\n%s", err, log)
	}
	st = host.ProbeDocker(ctx, d.host)
	if !st.ContainerdStore {
		t.Fatalf("after the switch the engine reports %+v", st)
	}
	after, _ := os.ReadFile(d.daemonJSON)
	if !strings.Contains(string(after), `"log-level": "warn"`) || !strings.Contains(string(after), `"containerd-snapshotter": true`) ||
		!strings.Contains(string(after), `"storage-driver": "native"`) {
		t.Errorf("daemon.json lost a key or missed the feature:\n%s", after)
	}
	if backup, err := os.ReadFile(d.daemonJSON + ".bakeplan-backup"); err != nil || !strings.Contains(string(backup), "vfs") || strings.Contains(string(backup), "snapshotter") {
		t.Errorf("backup: %v\n%s", err, backup)
	}
}

func TestMalformedDaemonJSONIsRefusedUntouched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "daemon.json")
	bad := []byte(`{"storage-driver": "vfs",` + "\n")
	os.WriteFile(path, bad, 0o644)
	err := host.SwitchToContainerdStore(context.Background(), host.DaemonConfig{Path: path, RestartCommand: []string{"false"}}, "unix:///nonexistent")
	if err == nil || !strings.Contains(err.Error(), "does not parse") {
		t.Fatalf("error %v; want a refusal", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(bad) {
		t.Errorf("the malformed file was changed to %q", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files were left beside it: %v", entries)
	}
}

func TestContainerdStoreConfigKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "daemon.json")
	os.WriteFile(path, []byte(`{"features": {"buildkit": true}, "registry-mirrors": ["https://m.example.com"], "max-concurrent-downloads": 12}`), 0o644)
	_, after, err := host.ContainerdStoreConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"buildkit": true`, `"containerd-snapshotter": true`, `"https://m.example.com"`, `"max-concurrent-downloads": 12`} {
		if !strings.Contains(string(after), want) {
			t.Errorf("missing %s in\n%s", want, after)
		}
	}
	if _, _, err := host.ContainerdStoreConfig(filepath.Join(dir, "missing.json")); err != nil {
		t.Errorf("a missing daemon.json: %v", err)
	}
}
