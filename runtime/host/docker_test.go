package host_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testdocker"
	"github.com/bakeplan/bakeplan/runtime/host"
)

func TestSwitchImageStore(t *testing.T) {
	d := testdocker.StartGraphDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	st := host.ProbeDocker(ctx, d.Host)
	if st.ContainerdStore || st.Driver != "vfs" {
		t.Fatalf("a graph-driver engine probed as %+v", st)
	}

	cfg := host.DaemonConfig{Path: d.DaemonJSON, RestartCommand: d.Restart}
	if err := host.SwitchToContainerdStore(ctx, cfg, d.Host); err != nil {
		log, _ := os.ReadFile(d.Dir + "/docker.log")
		t.Fatalf("switching: %v\n%s", err, log)
	}
	st = host.ProbeDocker(ctx, d.Host)
	if !st.ContainerdStore {
		t.Fatalf("after the switch the engine reports %+v", st)
	}
	after, _ := os.ReadFile(d.DaemonJSON)
	if !strings.Contains(string(after), `"log-level": "warn"`) || !strings.Contains(string(after), `"containerd-snapshotter": true`) ||
		!strings.Contains(string(after), `"storage-driver": "native"`) {
		t.Errorf("daemon.json lost a key or missed the feature:\n%s", after)
	}
	if backup, err := os.ReadFile(d.DaemonJSON + ".bakeplan-backup"); err != nil || !strings.Contains(string(backup), "vfs") || strings.Contains(string(backup), "snapshotter") {
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
