package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestSinglePlatformContextOnBuildKit: a context target that builds one
// platform (as tonistiigi/xx's) feeds both platforms of its user on the
// real BuildKit, and each pushed platform image holds what it copied.
func TestSinglePlatformContextOnBuildKit(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t)
	dp := &diffProject{t: t, env: env, dir: t.TempDir(), repo: fmt.Sprintf("%s/e2e-ctxplat-%d", env.Registry, time.Now().UnixNano())}
	dp.write("xx/marker", "from xx\n")
	dp.write("app/Dockerfile", "FROM scratch\nCOPY --from=xx /marker /marker\n")
	spec := writeFile(t, dp.dir, "bakeplan.hcl", testBlocks(env)+fmt.Sprintf(`host {
  emulators = ["arm64"]
}
target "xx" {
  context           = "xx"
  dockerfile_inline = "FROM scratch\nCOPY marker /marker"
  platforms         = ["linux/amd64"]
}
target "app" {
  context   = "app"
  contexts  = { xx = target.xx }
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["%s/app:1"]
  push      = true
}
`, dp.repo))
	if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec, "app"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	img := dp.image("app", "1")
	if !strings.Contains(img, "linux/amd64") || !strings.Contains(img, "linux/arm64") {
		t.Fatalf("the pushed image is not for both platforms:\n%s", img)
	}
}
