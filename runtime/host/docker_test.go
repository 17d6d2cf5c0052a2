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

// TestDaemonJSONFaults: what the switch does to daemon.json when it is a
// link, private, followed by junk, or when Docker fails to restart.
func TestDaemonJSONFaults(t *testing.T) {
	switchWith := func(path string, restart ...string) error {
		return host.SwitchToContainerdStore(context.Background(), host.DaemonConfig{Path: path, RestartCommand: restart}, "unix:///nonexistent")
	}
	t.Run("trailing JSON is refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "daemon.json")
		body := `{"debug": true} {"features": {"x": 1}}`
		os.WriteFile(path, []byte(body), 0o644)
		if err := switchWith(path, "true"); err == nil || !strings.Contains(err.Error(), "more after its JSON object") {
			t.Errorf("error %v", err)
		}
		if got, _ := os.ReadFile(path); string(got) != body {
			t.Errorf("changed to %q", got)
		}
	})
	t.Run("a failed restart restores the file, through a link, keeping modes", func(t *testing.T) {
		dir := t.TempDir()
		real := filepath.Join(dir, "real.json")
		body := `{"debug": true}`
		os.WriteFile(real, []byte(body), 0o600)
		os.Chmod(real, 0o600)
		link := filepath.Join(dir, "daemon.json")
		os.Symlink("real.json", link)
		err := switchWith(link, "sh", "-c", "echo no docker here; exit 3")
		if err == nil || !strings.Contains(err.Error(), "no docker here") || !strings.Contains(err.Error(), "was restored") {
			t.Fatalf("error %v", err)
		}
		if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("daemon.json is no longer a link: %v", err)
		}
		if got, _ := os.ReadFile(real); string(got) != body {
			t.Errorf("not restored: %q", got)
		}
		for _, name := range []string{real, link + ".bakeplan-backup"} {
			if st, err := os.Stat(name); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v (%v), want 0600", name, st.Mode(), err)
			}
		}
	})
	t.Run("no file before: a failed restart removes the new one", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "daemon.json")
		if err := switchWith(path, "false"); err == nil || !strings.Contains(err.Error(), "was restored") {
			t.Errorf("error %v", err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("daemon.json left behind: %v", err)
		}
	})
}
