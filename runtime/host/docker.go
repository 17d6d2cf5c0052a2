package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
	dockerclient "github.com/moby/moby/client"
)

// DockerState is what a probe of the Docker Engine found.
type DockerState struct {
	Host      string
	Reachable bool
	Error     string
	Version   string
	// Driver is the storage driver /info reports; with the containerd
	// image store it is the snapshotter.
	Driver          string
	ContainerdStore bool
	Desktop         bool
	Rootless        bool
}

// Store names the image store for people.
func (s DockerState) Store() string {
	if s.ContainerdStore {
		return "containerd"
	}
	if s.Driver == "" {
		return "unknown"
	}
	return s.Driver
}

// ProbeDocker asks the engine at host (a DOCKER_HOST value; "" for the
// default) which image store it uses.
func ProbeDocker(ctx context.Context, host string) DockerState {
	if host == "" {
		host = dockerclient.DefaultDockerHost
	}
	st := DockerState{Host: host}
	c, err := dockerclient.New(dockerclient.WithHost(host))
	if err != nil {
		st.Error = err.Error()
		return st
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := c.Info(ctx, dockerclient.InfoOptions{})
	if err != nil {
		st.Error = err.Error()
		return st
	}
	info := res.Info
	st.Reachable = true
	st.Version = info.ServerVersion
	st.Driver = info.Driver
	for _, kv := range info.DriverStatus {
		if kv[0] == "driver-type" && kv[1] == "io.containerd.snapshotter.v1" {
			st.ContainerdStore = true
		}
	}
	st.Desktop = strings.Contains(info.OperatingSystem, "Docker Desktop")
	for _, o := range info.SecurityOptions {
		if strings.Contains(o, "name=rootless") {
			st.Rootless = true
		}
	}
	return st
}

// DaemonConfig says where the engine's daemon.json is and how to restart
// the engine after changing it.
type DaemonConfig struct {
	Path           string   // default /etc/docker/daemon.json
	RestartCommand []string // default systemctl restart docker
}

// DefaultDaemonConfig is the usual Linux installation.
func DefaultDaemonConfig() DaemonConfig {
	return DaemonConfig{Path: "/etc/docker/daemon.json", RestartCommand: []string{"systemctl", "restart", "docker"}}
}

// ContainerdStoreConfig returns daemon.json as it is and as it would be with
// the containerd image store switched on, every other key kept. A missing
// file counts as empty; a file that does not parse is an error, and nothing
// may then be written.
func ContainerdStoreConfig(path string) (before, after []byte, err error) {
	before, err = os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	cfg := map[string]any{}
	if len(bytes.TrimSpace(before)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(before))
		dec.UseNumber()
		if err := dec.Decode(&cfg); err != nil {
			return nil, nil, fmt.Errorf("%s does not parse as JSON, so bakeplan leaves it alone: %w", path, err)
		}
		// Docker refuses a file with more after its object; rewriting it
		// would silently drop that part.
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%s has more after its JSON object, so bakeplan leaves it alone", path)
		}
	}
	features, _ := cfg["features"].(map[string]any)
	if features == nil {
		if _, exists := cfg["features"]; exists {
			return nil, nil, fmt.Errorf("%s: \"features\" is not an object, so bakeplan leaves the file alone", path)
		}
		features = map[string]any{}
	}
	features["containerd-snapshotter"] = true
	cfg["features"] = features
	// With the containerd store, storage-driver names a containerd
	// snapshotter; a graph driver's name would stop the engine.
	if d, ok := cfg["storage-driver"].(string); ok {
		if snap, known := snapshotterFor[d]; known {
			cfg["storage-driver"] = snap
		}
	}
	after, err = json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return before, append(after, '\n'), nil
}

// snapshotterFor maps graph drivers to the containerd snapshotters that
// replace them.
var snapshotterFor = map[string]string{
	"overlay2":       "overlayfs",
	"vfs":            "native",
	"fuse-overlayfs": "fuse-overlayfs",
	"btrfs":          "btrfs",
	"zfs":            "zfs",
}

// SwitchToContainerdStore writes daemon.json atomically (keeping a backup of
// the old file beside it, with its mode; through a symbolic link to the file
// it names), restarts the engine, waits for it, and checks that it now uses
// the containerd image store. When the restart fails or Docker does not come
// back, the previous file is put back and the error says so.
func SwitchToContainerdStore(ctx context.Context, cfg DaemonConfig, dockerHost string) error {
	before, after, err := ContainerdStoreConfig(cfg.Path)
	if err != nil {
		return err
	}
	if len(cfg.RestartCommand) == 0 {
		return errors.New("no command to restart Docker")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(cfg.Path); err == nil {
		mode = st.Mode().Perm()
	}
	if before != nil {
		if err := atomicfile.WriteMode(cfg.Path+".bakeplan-backup", before, mode); err != nil {
			return fmt.Errorf("backing up %s: %w", cfg.Path, err)
		}
	}
	if err := atomicfile.Write(cfg.Path, after, mode); err != nil {
		return fmt.Errorf("writing %s: %w", cfg.Path, err)
	}
	if err := restartAndCheck(ctx, cfg, dockerHost); err != nil {
		return fmt.Errorf("%w; %s", err, restore(cfg.Path, before))
	}
	return nil
}

// restore puts daemon.json back as it was (removing it when there was none)
// and says what it did, for the error that made it necessary.
func restore(path string, before []byte) string {
	var err error
	if before == nil {
		err = os.Remove(path)
	} else {
		err = atomicfile.Write(path, before, 0o644)
	}
	if err != nil {
		return fmt.Sprintf("restoring the previous %s failed too (%v); its backup is %s.bakeplan-backup", path, err, path)
	}
	return fmt.Sprintf("the previous %s was restored; restart Docker to run with it again", path)
}

func restartAndCheck(ctx context.Context, cfg DaemonConfig, dockerHost string) error {
	cmd := exec.CommandContext(ctx, cfg.RestartCommand[0], cfg.RestartCommand[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("restarting Docker with %q: %w: %s", strings.Join(cfg.RestartCommand, " "), err, bytes.TrimSpace(out))
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := ProbeDocker(ctx, dockerHost)
		if st.Reachable {
			if !st.ContainerdStore {
				return fmt.Errorf("Docker restarted but still uses the %s store; check %s", st.Store(), cfg.Path)
			}
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("Docker did not answer after the restart: %s", st.Error)
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}
