package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/lockfile"
)

// testBlocks are the builder and registry blocks of an end-to-end spec:
// the test buildkitd, and the plain test registry.
func testBlocks(env testenv.Env) string {
	return fmt.Sprintf("builder \"default\" {\n  endpoint = %q\n}\nregistry \"local\" {\n  host     = %q\n  insecure = true\n}\n", env.Buildkit, env.Registry)
}

// TestLockPinsBaseImages: an image pushed as base:v1 is locked; when the
// tag moves to another image, plan --detailed-exitcode exits 2 and names
// the drift, apply still builds from the locked bytes (and records them in
// the metadata file), and lock -upgrade moves the pin to the new image.
func TestLockPinsBaseImages(t *testing.T) {
	env := testenv.Get(t)
	base := fmt.Sprintf("%s/e2e-lock-%d/base:v1", env.Registry, time.Now().UnixNano())
	dir := t.TempDir()
	write := func(name, body string) string { t.Helper(); return writeFile(t, dir, name, body) }
	header := testBlocks(env)
	// The base image, pushed under one tag twice with different content.
	pushBase := func(marker string) {
		t.Helper()
		write("base/marker", marker)
		spec := write("base/bakeplan.hcl", header+fmt.Sprintf(`target "base" {
  dockerfile_inline = "FROM scratch\nCOPY marker /marker"
  platforms         = ["linux/amd64", "linux/arm64"]
  tags              = [%q]
  push              = true
}
`, base))
		if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "-f", spec); code != 0 {
			t.Fatalf("pushing the base %s: exit %d\n%s", marker, code, errOut)
		}
	}
	out := filepath.Join(dir, "out")
	app := write("app/bakeplan.hcl", header+fmt.Sprintf(`target "app" {
  dockerfile_inline = "FROM %s\nCOPY f /f"
  platforms         = ["linux/amd64", "linux/arm64"]
  output            = [{ type = "local", dest = %q }]
}
`, base, out))
	write("app/f", "app")
	built := func() string {
		t.Helper()
		meta := filepath.Join(dir, "meta.json")
		if _, errOut, code := bakeplan(t, "apply", "--auto-approve", "--progress", "quiet", "--metadata-file", meta, "-f", app); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, errOut)
		}
		b, err := os.ReadFile(filepath.Join(out, "linux_arm64", "marker"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	lockOf := func() *lockfile.Image {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "app", lockfile.Name))
		if err != nil {
			t.Fatal(err)
		}
		l, diags := lockfile.Parse(lockfile.Name, b)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		img := l.Lookup(base)
		if img == nil || len(img.Platforms) != 2 {
			t.Fatalf("the lock does not pin %s for two platforms:\n%s", base, b)
		}
		return img
	}

	pushBase("v1")
	if stdout, errOut, code := bakeplan(t, "lock", "-f", app); code != 0 || !strings.Contains(stdout, "+ "+base) {
		t.Fatalf("lock: exit %d\n%s%s", code, stdout, errOut)
	}
	v1 := lockOf()
	// The build (to a local directory) is always pending; no drift yet.
	if stdout, _, code := bakeplan(t, "plan", "--detailed-exitcode", "-f", app); code != 2 || strings.Contains(stdout, "moved in their registries") {
		t.Fatalf("plan right after lock: exit %d\n%s", code, stdout)
	}

	pushBase("v2")
	stdout, errOut, code := bakeplan(t, "plan", "--detailed-exitcode", "-f", app)
	if code != 2 || !strings.Contains(stdout, "~ base "+base+"  "+v1.Digest[:19]+" (locked) ≠ sha256:") {
		t.Fatalf("plan after the tag moved: exit %d, want 2 and the drift\n%s%s", code, stdout, errOut)
	}
	if got := built(); got != "v1" {
		t.Fatalf("apply built from %q, want the locked v1", got)
	}
	var meta struct {
		Builds []struct {
			Images map[string]string `json:"images"`
		} `json:"builds"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err := json.Unmarshal(b, &meta); err != nil || len(meta.Builds) != 1 || meta.Builds[0].Images[base] != v1.Digest {
		t.Fatalf("the metadata file does not record the locked digest %s:\n%s", v1.Digest, b)
	}

	// lock alone never moves a pin.
	if stdout, errOut, code := bakeplan(t, "lock", "-f", app); code != 0 || !strings.Contains(stdout, "up to date") || lockOf().Digest != v1.Digest {
		t.Fatalf("lock without -upgrade: exit %d\n%s%s", code, stdout, errOut)
	}
	if stdout, errOut, code := bakeplan(t, "lock", "-upgrade", "-f", app); code != 0 || !strings.Contains(stdout, "~ "+base) {
		t.Fatalf("lock -upgrade: exit %d\n%s%s", code, stdout, errOut)
	}
	if v2 := lockOf(); v2.Digest == v1.Digest {
		t.Fatalf("lock -upgrade did not move the pin")
	}
	if stdout, _, code := bakeplan(t, "plan", "--detailed-exitcode", "-f", app); strings.Contains(stdout, "moved in their registries") {
		t.Fatalf("plan after lock -upgrade still shows drift: exit %d\n%s", code, stdout)
	}
	if got := built(); got != "v2" {
		t.Fatalf("apply after lock -upgrade built from %q, want v2", got)
	}

	// A lock file whose manifest for a platform is not the one its locked
	// index holds (edited, damaged): plan refuses it, naming both, and
	// lock puts it right.
	lockFile := filepath.Join(dir, "app", lockfile.Name)
	good := lockOf().Platforms["linux/arm64"]
	data, _ := os.ReadFile(lockFile)
	forged := "sha256:" + strings.Repeat("e", 64)
	if err := os.WriteFile(lockFile, []byte(strings.Replace(string(data), good, forged, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if stdout, errOut, code := bakeplan(t, "plan", "-f", app); code != 1 || !strings.Contains(errOut, "records "+forged+" for linux/arm64, but its locked index holds "+good) {
		t.Fatalf("plan with an edited lock file: exit %d\n%s%s", code, stdout, errOut)
	}
	if stdout, errOut, code := bakeplan(t, "lock", "-f", app); code != 0 || !strings.Contains(stdout, "put right") || lockOf().Platforms["linux/arm64"] != good {
		t.Fatalf("lock with an edited lock file: exit %d\n%s%s", code, stdout, errOut)
	}
}
