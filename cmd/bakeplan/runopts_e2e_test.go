package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestRunOptionsReachBuildKit asks BuildKit what a RUN got: the stage,
// host name, /dev/shm size and ulimit, each sent as the frontend option
// its attribute's row names (targetattr's Frontend, with no code of its
// own in the request), are read back from inside the build.
func TestRunOptionsReachBuildKit(t *testing.T) {
	env := testenv.Get(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	spec := writeFile(t, dir, "bakeplan.hcl", testBlocks(env)+fmt.Sprintf(`target "probe" {
  dockerfile_inline = <<-EOT
    FROM %s AS seen
    RUN hostname > /hostname && df -k /dev/shm | tail -n 1 > /shm && ulimit -n > /nofile
    FROM scratch AS wanted
    COPY --from=seen /hostname /shm /nofile /
    FROM scratch AS other
  EOT
  target    = "wanted"
  hostname  = "bakeplan-probe"
  shm_size  = "96m"
  ulimits   = ["nofile=1234:1234"]
  platforms = ["linux/amd64"]
  output    = [{ type = "local", dest = %q }]
}
`, env.Base, out))
	if stdout, _, code := bakeplan(t, "plan", "--offline", "-f", spec); code != 0 || !strings.Contains(stdout, "hostname bakeplan-probe") {
		t.Fatalf("plan: exit %d, want the host name shown\n%s", code, stdout)
	}
	if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("the build did not export %s from stage wanted: %v", name, err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := read("hostname"); got != "bakeplan-probe" {
		t.Errorf("RUN saw host name %q, want bakeplan-probe", got)
	}
	if got := strings.Fields(read("shm")); len(got) < 2 || got[1] != "98304" {
		t.Errorf("RUN saw /dev/shm as %q, want 98304 KiB", read("shm"))
	}
	if got := read("nofile"); got != "1234" {
		t.Errorf("RUN saw ulimit -n %q, want 1234", got)
	}
}
