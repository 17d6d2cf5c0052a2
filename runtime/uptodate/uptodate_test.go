package uptodate

import (
	"reflect"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/bakeplan/bakeplan/internal/testfill"
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
		state  plan.BuildState
		reason string
	}{
		{"all in place", []*published{held("r/app:1", "sha256:a"), held("r/app:latest", "sha256:a")}, UpToDate, ""},
		{"one tag missing", []*published{held("r/app:1", "sha256:a"), {tag: "r/app:latest"}}, Retag, "tag r/app:latest missing"},
		{"other repository", []*published{held("r/app:1", "sha256:a"), {tag: "r/mirror:1"}}, Retag, "the image is copied from docker.io/r/app to the other repositories"},
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

// TestOnlyImage: the record of a single-platform image with attestations
// is on the image's manifest inside BuildKit's index, found when the index
// holds exactly one image.
func TestOnlyImage(t *testing.T) {
	img := func(d string) ocispec.Descriptor { return ocispec.Descriptor{Digest: digest.Digest(d)} }
	att := func(d string) ocispec.Descriptor {
		return ocispec.Descriptor{Digest: digest.Digest(d), Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}}
	}
	for _, tc := range []struct {
		name string
		m    []ocispec.Descriptor
		want string
	}{
		{"a manifest, not an index", nil, ""},
		{"one image and its attestation", []ocispec.Descriptor{img("sha256:a"), att("sha256:b")}, "sha256:a"},
		{"attestation first", []ocispec.Descriptor{att("sha256:b"), img("sha256:a")}, "sha256:a"},
		{"two platforms", []ocispec.Descriptor{img("sha256:a"), img("sha256:c"), att("sha256:b")}, ""},
		{"attestations only", []ocispec.Descriptor{att("sha256:b")}, ""},
	} {
		if got := (manifestFields{Manifests: tc.m}).onlyImage(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestFeeders: a build whose only use is as a context is up to date when
// every build it feeds is, along a chain; one feeding a build that runs
// is left unchecked.
func TestFeeders(t *testing.T) {
	build := func(id string, status *plan.BuildStatus, feeds ...string) *plan.Step {
		st := &plan.Step{ID: id, Build: &plan.Build{Target: id, Status: status}}
		for _, f := range feeds {
			st.Needs = append(st.Needs, plan.Edge{Step: f, Kind: plan.EdgeData, Name: f})
		}
		return st
	}
	for _, tc := range []struct {
		name     string
		app      *plan.BuildStatus
		wantDeps bool
	}{
		{"consumer up to date", &plan.BuildStatus{State: UpToDate, Digest: "sha256:a"}, true},
		{"consumer re-tagged", &plan.BuildStatus{State: Retag, Digest: "sha256:a"}, true},
		{"consumer runs", &plan.BuildStatus{State: Build}, false},
		{"consumer not checked", nil, false},
	} {
		p := &plan.Plan{Steps: []*plan.Step{build("build.leaf", nil), build("build.mid", nil, "build.leaf"), build("build.app", tc.app, "build.mid")}}
		feedersOf(p)
		for _, id := range []string{"build.leaf", "build.mid"} {
			st := p.Step(id).Build.Status
			if got := st != nil && st.State == UpToDate; got != tc.wantDeps {
				t.Errorf("%s: %s is up to date: %t, want %t (%+v)", tc.name, id, got, tc.wantDeps, st)
			}
		}
	}
}

// TestRunOptionReasons: a changed option every RUN gets is named.
func TestRunOptionReasons(t *testing.T) {
	old := record()
	now := NewRecord(&plan.Build{InputDigest: "sha256:n", Network: "none", ShmSize: 1 << 20, Platforms: []plan.PlatformRun{{Platform: "linux/amd64"}, {Platform: "linux/riscv64"}}, Args: map[string]string{"VERSION": "v1.2.3", "TOKEN": plan.Redacted}, SensitiveFingerprints: map[string]string{"args.TOKEN": "fp2"}, Images: []*plan.Image{{Ref: "docker.io/library/golang:1.26", Digest: "sha256:cd34cd34cd34cd34cd34", Locked: true}}, Inputs: []*plan.Input{{Kind: "dockerfile", Digest: "sha256:df"}, {Kind: "context", Digest: "sha256:ctx"}}, Context: "app"}, old.Files, nil)
	got := strings.Join(Reasons(old, now), "\n")
	for _, want := range []string{"network (default) → none (every RUN gets it)", "shm_size (default) → 1048576"} {
		if !strings.Contains(got, want) {
			t.Errorf("reasons lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "build settings changed") {
		t.Errorf("the fallback reason is given beside a named one:\n%s", got)
	}
}

// TestBriefRecord: by default the published record names no file, no
// per-file digest and no arg; the detail is kept in this machine's cache
// and explains a rebuild here, and elsewhere the reason says it is not
// known.
func TestBriefRecord(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	full := record()
	brief := full.Annotations(false)["annotation-index."+AnnotationInputs]
	for _, leak := range []string{"main.go", "2222222222222222", "VERSION", "v1.2.3", "golang"} {
		if strings.Contains(brief, leak) {
			t.Errorf("the brief record shows %q: %s", leak, brief)
		}
	}
	if detailed := full.Annotations(true)["annotation-index."+AnnotationInputs]; !strings.Contains(detailed, "main.go") {
		t.Errorf("the detailed record lacks the files: %s", detailed)
	}
	old, ok := parseRecord(map[string]string{AnnotationInputs: brief})
	if !ok || !old.Brief {
		t.Fatalf("the brief record does not parse: %v %+v", ok, old)
	}
	now := full
	now.InputDigest = "sha256:newer"
	pt := &published{tag: "r/app:1", exists: true, digest: "sha256:a", inputDigest: full.InputDigest, record: old, hasRecord: true}
	if st := decide(now, []*published{pt}); st.State != Build || !strings.Contains(strings.Join(st.Reasons, "\n"), "what changed is not known here") {
		t.Errorf("without the detail: %s %v", st.State, st.Reasons)
	}
	// Kept by the machine that built it, the detail explains the rebuild.
	b := &plan.Build{InputDigest: full.InputDigest, Push: true, Context: "app", Platforms: []plan.PlatformRun{{Platform: "linux/amd64"}}}
	p := &plan.Plan{Steps: []*plan.Step{{ID: "build.app", Build: b}}}
	files := func(*plan.Step) (map[string]string, error) {
		return map[string]string{"main.go": "sha256:2222222222222222222 0644"}, nil
	}
	if err := SaveRecords(p, []string{"build.app"}, files); err != nil {
		t.Fatal(err)
	}
	saved, ok := savedRecord(full.InputDigest)
	if !ok || saved.Files["main.go"] == "" || saved.Brief {
		t.Fatalf("the saved record: %v %+v", ok, saved)
	}
	if _, ok := savedRecord("sha256:../../etc/passwd"); ok {
		t.Errorf("a digest naming a path outside the store was read")
	}
}

// TestDerivedAttributeReasons proves by difference that every attribute
// the input digest covers as derived from its row is named when it
// changes, with no code of its own here.
func TestDerivedAttributeReasons(t *testing.T) {
	base := &plan.Build{InputDigest: "sha256:o", Platforms: []plan.PlatformRun{{Platform: "linux/amd64"}}}
	old := NewRecord(base, nil, nil)
	if len(plan.DerivedInputs()) == 0 {
		t.Fatal("no attribute is derived, so this test proves nothing")
	}
	for _, f := range plan.DerivedInputs() {
		b := *base
		b.InputDigest = "sha256:n"
		testfill.NonZero(reflect.ValueOf(&b).Elem().FieldByName(f.Field))
		got := strings.Join(Reasons(old, NewRecord(&b, nil, nil)), "\n")
		if want := f.Name + " (default) → " + f.Text(&b, ","); !strings.Contains(got, want) {
			t.Errorf("%s changed, but the reasons do not say %q:\n%s", f.Name, want, got)
		}
	}
}
