package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestPublishedRecordLeaksNothing: a context holds a file the build never
// copies (secrets/prod.env) and the spec passes an arg no ARG declares.
// The pushed image's annotations must name neither, nor carry a prefix of
// the file's digest; the plan on the machine that built it still says what
// changed, another machine says it cannot know, and --detailed-record
// publishes the detail for those who want it.
func TestPublishedRecordLeaksNothing(t *testing.T) {
	env := testenv.Get(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	dp := &diffProject{t: t, env: env, repo: fmt.Sprintf("%s/e2e-record-%d", env.Registry, time.Now().UnixNano())}
	repo := dp.repo + "/app"
	secret := "PIN=482193\n"
	sum := sha256.Sum256([]byte(secret))
	writeFile(t, dir, "secrets/prod.env", secret)
	writeFile(t, dir, "app.txt", "app\n")
	spec := writeFile(t, dir, "bakeplan.hcl", testBlocks(env)+fmt.Sprintf(`target "app" {
  dockerfile_inline = "FROM scratch\nCOPY app.txt /app.txt"
  args      = { INTERNAL_URL = "http://billing.internal:8080" }
  platforms = ["linux/amd64"]
  tags      = ["%s:1"]
  push      = true
}
`, repo))
	apply := func(extra ...string) {
		t.Helper()
		if _, errOut, code := bakeplan(t, append([]string{"apply", "--auto-approve", "--progress", "quiet", "-f", spec}, extra...)...); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, errOut)
		}
	}
	annotations := func() string {
		t.Helper()
		body, _ := dp.manifest("app", "1")
		return string(body)
	}
	apply()
	published := annotations()
	for _, leak := range []string{"prod.env", "secrets", hex.EncodeToString(sum[:])[:16], "billing.internal", "INTERNAL_URL", "app.txt"} {
		if strings.Contains(published, leak) {
			t.Errorf("the published image shows %q:\n%s", leak, published)
		}
	}
	if !strings.Contains(published, "org.bakeplan.input.digest") {
		t.Fatalf("the image carries no input digest:\n%s", published)
	}

	// Changed on the machine that built it: the plan names the file.
	writeFile(t, dir, "app.txt", "app 2\n")
	out, errOut, code := bakeplan(t, "plan", "-f", spec)
	if code != 0 || !strings.Contains(out, "app.txt") {
		t.Errorf("plan on the machine that built it does not name the change: exit %d\n%s%s", code, out, errOut)
	}
	// Elsewhere (an empty cache), it says it cannot know.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	out, errOut, code = bakeplan(t, "plan", "-f", spec)
	if code != 0 || !strings.Contains(out, "what changed is not known here") {
		t.Errorf("plan on another machine: exit %d\n%s%s", code, out, errOut)
	}
	// Opted in, the detail is published, and any machine can explain.
	apply("--detailed-record")
	if published := annotations(); !strings.Contains(published, "app.txt") {
		t.Errorf("--detailed-record published no detail:\n%s", published)
	}
	writeFile(t, dir, "app.txt", "app 3\n")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	if out, _, _ := bakeplan(t, "plan", "-f", spec); !strings.Contains(out, "app.txt") {
		t.Errorf("with the detailed record published, another machine does not name the change:\n%s", out)
	}
}
