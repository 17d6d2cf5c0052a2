package uptodate

import (
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

func record() Record {
	b := &plan.Build{
		InputDigest: "sha256:new", Context: "app",
		Inputs:                []*plan.Input{{Kind: "dockerfile", Digest: "sha256:df"}, {Kind: "context", Digest: "sha256:ctx"}},
		Args:                  map[string]string{"VERSION": "v1.2.3", "TOKEN": plan.Redacted},
		Platforms:             []plan.PlatformRun{{Platform: "linux/amd64"}, {Platform: "linux/riscv64"}},
		Images:                []*plan.Image{{Ref: "docker.io/library/golang:1.26", Digest: "sha256:cd34cd34cd34cd34cd34", Locked: true}},
		SensitiveFingerprints: map[string]string{"args.TOKEN": "fp2"},
	}
	files := map[string]string{"main.go": "sha256:2222222222222222222 0644", "go.sum": "sha256:3333333333333333333 0644", "run.sh": "sha256:4444444444444444 0755"}
	return NewRecord(b, files, nil)
}

// TestReasons: each changed input is one line, in the words the plan shows.
func TestReasons(t *testing.T) {
	now := record()
	old := record()
	old.InputDigest = "sha256:old"
	old.Context = "sha256:ctx-old"
	old.Files = map[string]string{"main.go": "1111111111111111", "go.sum": now.Files["go.sum"], "README": "5555555555555555", "run.sh": now.Files["run.sh"]}
	old.Args = map[string]string{"VERSION": "v1.2.2", "TOKEN": "(sensitive fp1)", "OLD": "x"}
	old.Platforms = []string{"linux/amd64"}
	old.Images = map[string]string{"docker.io/library/golang:1.26": "sha256:ab12ab12ab12ab12ab12"}
	got := strings.Join(Reasons(old, now), "\n")
	for _, want := range []string{
		"context app/ changed (2 files: README, main.go)",
		"arg OLD removed",
		"arg TOKEN changed (sensitive)",
		"arg VERSION v1.2.2 → v1.2.3",
		"platform linux/riscv64 added",
		"base golang:1.26 moved sha256:ab12ab12ab12… → sha256:cd34cd34cd34…",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("reasons lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "fp1") || strings.Contains(got, "fp2") {
		t.Errorf("a sensitive fingerprint is shown:\n%s", got)
	}
	if now.Files["run.sh"] != "4444444444444444 0755" {
		t.Errorf("an executable is recorded as %q", now.Files["run.sh"])
	}
}

// TestDecide: up to date only when every tag holds these inputs; a tag
// missing beside one that holds them is a re-tag in one repository and a
// build across repositories.
func TestDecide(t *testing.T) {
	now := record()
	held := func(tag, digest string) *published {
		return &published{tag: tag, exists: true, digest: digest, inputDigest: now.InputDigest, record: now, hasRecord: true}
	}
	for _, tc := range []struct {
		name   string
		tags   []*published
		state  string
		reason string
	}{
		{"all in place", []*published{held("r/app:1", "sha256:a"), held("r/app:latest", "sha256:a")}, UpToDate, ""},
		{"one tag missing", []*published{held("r/app:1", "sha256:a"), {tag: "r/app:latest"}}, Retag, "tag r/app:latest missing"},
		{"other repository", []*published{held("r/app:1", "sha256:a"), {tag: "r/mirror:1"}}, Build, "tag r/mirror:1 missing"},
		{"nothing published", []*published{{tag: "r/app:1"}}, Build, "tag r/app:1 missing"},
		{"not built by bakeplan", []*published{{tag: "r/app:1", exists: true, digest: "sha256:b"}}, Build, "carries no bakeplan input record"},
		{"inputs changed", []*published{{tag: "r/app:1", exists: true, digest: "sha256:b", inputDigest: "sha256:old", hasRecord: true, record: Record{Version: 1, Platforms: []string{"linux/amd64", "linux/riscv64"}, Dockerfile: "sha256:other", Context: now.Context, Files: now.Files, Args: now.Args, Images: now.Images}}}, Build, "Dockerfile changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := decide(now, tc.tags)
			if st.State != tc.state || !strings.Contains(strings.Join(st.Reasons, "\n"), tc.reason) {
				t.Errorf("got %s %v; want %s with %q", st.State, st.Reasons, tc.state, tc.reason)
			}
		})
	}
}
