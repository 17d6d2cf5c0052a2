// Package testdocker starts throwaway Docker Engines for tests, from the
// binaries the test environment built, on the containerd the environment
// runs.
package testdocker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	dockerclient "github.com/moby/moby/client"
)

// Engine is a Docker Engine of a test's own.
type Engine struct {
	Dir        string
	Host       string   // DOCKER_HOST value
	DaemonJSON string   // its config file
	Restart    []string // restarts it the way systemctl restart docker would
}

// StartGraphDriver starts an engine on the classic vfs graph-driver image
// store. It skips the test without the test environment, and fails it when
// CI is set.
func StartGraphDriver(t *testing.T) *Engine {
	t.Helper()
	env := testenv.Get(t)
	bin, containerd := env.Bin, env.Containerd
	// Unix socket paths must stay short, so not t.TempDir().
	dir, err := os.MkdirTemp("/tmp", "bp-dkr-")
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Dir: dir, Host: "unix://" + dir + "/docker.sock", DaemonJSON: dir + "/daemon.json"}
	if err := os.WriteFile(e.DaemonJSON, []byte(`{"storage-driver": "vfs", "log-level": "warn"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ns := filepath.Base(dir)
	// Each engine runs in a network namespace of its own. With
	// --bridge=none dockerd deletes any docker0 it finds at startup, and on
	// the host's network that is the bridge of the environment's own
	// engine, whose next RUN step then fails with "adding interface ... to
	// bridge docker0 failed: Device does not exist".
	start := `#!/bin/sh
cd "` + dir + `"
PATH="` + bin + `:$PATH" nohup unshare --net -- "` + bin + `/dockerd" --containerd "` + containerd + `" \
  --containerd-namespace ` + ns + ` --containerd-plugins-namespace ` + ns + `-plugins \
  --data-root "` + dir + `/data" --exec-root "` + dir + `/exec" --pidfile "` + dir + `/docker.pid" \
  -H "` + e.Host + `" --config-file "` + e.DaemonJSON + `" --bridge=none --iptables=false --ip6tables=false \
  --userland-proxy=false >>"` + dir + `/docker.log" 2>&1 &
`
	stop := `#!/bin/sh
pid=$(cat "` + dir + `/docker.pid" 2>/dev/null) || exit 0
kill "$pid" 2>/dev/null
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
`
	for name, body := range map[string]string{
		"start.sh":   start,
		"stop.sh":    stop,
		"restart.sh": "#!/bin/sh\n\"" + dir + "/stop.sh\"\n\"" + dir + "/start.sh\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.Restart = []string{dir + "/restart.sh"}
	if out, err := exec.Command(dir + "/start.sh").CombinedOutput(); err != nil {
		t.Fatalf("starting dockerd: %v %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(dir + "/stop.sh").Run()
		os.RemoveAll(dir)
	})
	for i := 0; i < 120; i++ {
		if answers(e.Host) {
			return e
		}
		time.Sleep(500 * time.Millisecond)
	}
	log, _ := os.ReadFile(dir + "/docker.log")
	t.Fatalf("dockerd did not come up:\n%s", log)
	return nil
}

// answers says whether the engine at host answers a ping. It asks with the
// Docker API client itself, not the host probe under test.
func answers(host string) bool {
	c, err := dockerclient.New(dockerclient.WithHost(host))
	if err != nil {
		return false
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Ping(ctx, dockerclient.PingOptions{})
	return err == nil
}
