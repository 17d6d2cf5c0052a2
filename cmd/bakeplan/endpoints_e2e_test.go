package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// indexPlatforms is the platforms of the index a tag holds.
func indexPlatforms(t *testing.T, registry, repo, tag string) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/%s/manifests/%s", registry, repo, tag), nil)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var idx struct {
		Manifests []struct {
			Platform struct{ OS, Architecture string }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&idx); err != nil {
		t.Fatalf("%s/%s:%s: %v", registry, repo, tag, err)
	}
	var out []string
	for _, m := range idx.Manifests {
		if m.Platform.OS != "unknown" {
			out = append(out, m.Platform.OS+"/"+m.Platform.Architecture)
		}
	}
	return out
}

// pushesTwoPlatforms: builder.NAME at endpoint is probed by an online plan
// and builds and pushes a two-platform index, with environ as the
// environment of both commands.
func pushesTwoPlatforms(t *testing.T, env testenv.Env, name, endpoint string, environ []string) {
	t.Helper()
	run := fmt.Sprint(time.Now().UnixNano())
	repo := "e2e-" + name + "-" + run
	spec := writeFile(t, t.TempDir(), "bakeplan.hcl", fmt.Sprintf(`builder %q {
  endpoint  = %q
  platforms = ["linux/amd64", "linux/arm64"]
}
registry "local" {
  host     = %q
  insecure = true
}
target "app" {
  dockerfile_inline = "FROM %s\nARG RUN\nRUN echo $RUN > /run-id"
  args              = { RUN = %q }
  platforms         = ["linux/amd64", "linux/arm64"]
  tags              = ["%s/%s:1"]
  push              = true
}
`, name, endpoint, env.Registry, env.Base, run, env.Registry, repo))
	out, errOut, code := runWith(t, environ, "plan", "-f", spec)
	if code != 0 || !strings.Contains(out, "builder."+name) || !strings.Contains(out, "buildkit") {
		t.Fatalf("plan through %s: exit %d\n%s%s", endpoint, code, out, errOut)
	}
	if _, errOut, code := runWith(t, environ, "apply", "--progress", "quiet", "-f", spec); code != 0 {
		t.Fatalf("apply through %s: exit %d\n%s", endpoint, code, errOut)
	}
	if got := strings.Join(indexPlatforms(t, env.Registry, repo, "1"), ","); got != "linux/amd64,linux/arm64" {
		t.Errorf("the index holds %s", got)
	}
}

// TestSSHEndpoint: a builder reached over ssh:// (an sshd on loopback in
// front of a buildkitd) is probed by an online plan and builds and pushes a
// two-platform index.
func TestSSHEndpoint(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t) // the node runs arm64 steps through binfmt_misc
	t.Setenv("PATH", env.SSHBin+string(os.PathListSeparator)+os.Getenv("PATH"))
	pushesTwoPlatforms(t, env, "remote", env.SSH, []string{"BAKEPLAN_VAR_UNUSED=1"})
}

// TestDockerContainerEndpoint: a builder in a Docker container (the
// docker-container driver's shape, reached through the Docker API with no
// docker CLI) is probed by an online plan and builds and pushes a
// two-platform index.
func TestDockerContainerEndpoint(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t) // the container's buildkitd runs arm64 steps through binfmt_misc
	pushesTwoPlatforms(t, env, "ctr", env.DockerContainer, []string{"DOCKER_HOST=" + env.DockerHost})
}
