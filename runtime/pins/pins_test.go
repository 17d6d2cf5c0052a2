package pins_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bakeplan/bakeplan/lockfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/pins"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeRegistry serves manifests by tag and digest, and blobs, and counts
// requests: enough of the distribution API for resolution.
type fakeRegistry struct {
	mu       sync.Mutex
	tags     map[string]string // repo:tag -> digest
	blobs    map[string][]byte // digest -> content
	types    map[string]string // digest -> media type
	requests int
}

func newFake() *fakeRegistry {
	return &fakeRegistry{tags: map[string]string{}, blobs: map[string][]byte{}, types: map[string]string{}}
}

func (f *fakeRegistry) put(mediaType string, v any) ocispec.Descriptor {
	b, _ := json.Marshal(v)
	d := digest.FromBytes(b)
	f.mu.Lock()
	f.blobs[d.String()], f.types[d.String()] = b, mediaType
	f.mu.Unlock()
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// image puts a single-platform image and returns its manifest.
func (f *fakeRegistry) image(platform string) ocispec.Descriptor {
	os, arch, _ := strings.Cut(platform, "/")
	cfg := f.put(ocispec.MediaTypeImageConfig, ocispec.Image{Platform: ocispec.Platform{OS: os, Architecture: arch}})
	return f.put(ocispec.MediaTypeImageManifest, ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}})
}

// index puts an index of one image per platform, plus an attestation.
func (f *fakeRegistry) index(plats ...string) ocispec.Descriptor {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	for _, p := range plats {
		m := f.image(p)
		os, arch, _ := strings.Cut(p, "/")
		variant := ""
		if arch == "arm64" {
			variant = "v8"
		}
		m.Platform = &ocispec.Platform{OS: os, Architecture: arch, Variant: variant}
		idx.Manifests = append(idx.Manifests, m)
	}
	att := f.image("linux/amd64")
	att.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	idx.Manifests = append(idx.Manifests, att)
	return f.put(ocispec.MediaTypeImageIndex, idx)
}

func (f *fakeRegistry) tag(repo, tag string, d ocispec.Descriptor) {
	f.mu.Lock()
	f.tags[repo+":"+tag] = d.Digest.String()
	f.mu.Unlock()
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	p := strings.TrimPrefix(r.URL.Path, "/v2/")
	if p == "" {
		return
	}
	var d string
	switch {
	case strings.Contains(p, "/manifests/"):
		repo, ref, _ := strings.Cut(p, "/manifests/")
		d = ref
		if !strings.HasPrefix(ref, "sha256:") {
			d = f.tags[repo+":"+ref]
		}
	case strings.Contains(p, "/blobs/"):
		_, d, _ = strings.Cut(p, "/blobs/")
	}
	b, ok := f.blobs[d]
	if !ok {
		http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", f.types[d])
	w.Header().Set("Docker-Content-Digest", d)
	w.Header().Set("Content-Length", itoa(len(b)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func setup(t *testing.T) (*fakeRegistry, string, *pins.Resolver) {
	f := newFake()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	p := &plan.Plan{Steps: []*plan.Step{{ID: "registry.r", Registry: &plan.Registry{Name: "r", Host: host, Insecure: true}}}}
	return f, host, pins.New(registry.FromPlan(p))
}

// TestPin: a tag resolves to its index and, per platform, the manifest
// BuildKit would pull (linux/arm64 takes linux/arm64/v8); a platform the
// image lacks, or a single-platform image pulled for another platform, is
// an error that names what the image has.
func TestPin(t *testing.T) {
	f, host, r := setup(t)
	ctx := context.Background()
	idx := f.index("linux/amd64", "linux/arm64")
	f.tag("base", "v1", idx)
	single := f.image("linux/amd64")
	f.tag("single", "v1", single)

	img, err := r.Pin(ctx, host+"/base:v1", "", []string{"linux/amd64", "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	if img.Digest != idx.Digest.String() || len(img.Platforms) != 2 || img.Platforms["linux/arm64"] == img.Platforms["linux/amd64"] {
		t.Fatalf("pin %+v", img)
	}
	if _, err := r.Pin(ctx, host+"/base:v1", "", []string{"linux/riscv64"}); err == nil || !strings.Contains(err.Error(), "no linux/riscv64 manifest (it has linux/amd64, linux/arm64/v8)") {
		t.Errorf("missing platform: %v", err)
	}
	if img, err := r.Pin(ctx, host+"/single:v1", "", []string{"linux/amd64"}); err != nil || img.Digest != single.Digest.String() || len(img.Platforms) != 0 {
		t.Errorf("single manifest: %+v, %v", img, err)
	}
	if _, err := r.Pin(ctx, host+"/single:v1", "", []string{"linux/arm64"}); err == nil || !strings.Contains(err.Error(), "for linux/amd64 only") {
		t.Errorf("single manifest for another platform: %v", err)
	}
	if _, err := r.Pin(ctx, host+"/gone:v1", "", nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown tag: %v", err)
	}
}

// TestUpdate: lock without -upgrade keeps complete pins (reading each
// index again at its locked digest, to check the manifests the file
// records), puts right a recorded manifest the index does not hold, reads a
// missing platform from the locked index (not the moved tag), adds new
// references and drops unused ones; -upgrade REF moves only that pin.
func TestUpdate(t *testing.T) {
	f, host, r := setup(t)
	ctx := context.Background()
	a1, b1 := f.index("linux/amd64", "linux/arm64"), f.index("linux/amd64")
	f.tag("a", "v1", a1)
	f.tag("b", "v1", b1)
	refA, refB, refC := host+"/a:v1", host+"/b:v1", host+"/c:v1"

	lock, changes, err := pins.Update(ctx, r, nil, map[string][]string{refA: {"linux/amd64"}, refB: {"linux/amd64"}}, pins.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Action != "add" || changes[1].Action != "add" {
		t.Fatalf("changes %+v", changes)
	}

	// Nothing missing: every pin kept as it is.
	if _, changes, err := pins.Update(ctx, r, lock, map[string][]string{refA: {"linux/amd64"}, refB: {"linux/amd64"}}, pins.UpdateOptions{}); err != nil || changes[0].Action != "keep" || changes[1].Action != "keep" {
		t.Fatalf("unchanged: %+v, %v", changes, err)
	}
	if bad, err := pins.Verify(ctx, r, lock); err != nil || len(bad) != 0 {
		t.Errorf("a sound lock: %v %v", bad, err)
	}

	// A recorded manifest edited: plan's check names it, lock puts it right.
	tampered := &lockfile.Lock{Images: map[string]*lockfile.Image{}}
	for k, v := range lock.Images {
		c := *v
		c.Platforms = maps.Clone(v.Platforms)
		tampered.Images[k] = &c
	}
	good := tampered.Images[refA].Platforms["linux/amd64"]
	tampered.Images[refA].Platforms["linux/amd64"] = "sha256:" + strings.Repeat("e", 64)
	bad, err := pins.Verify(ctx, r, tampered)
	if err != nil || len(bad) != 1 || bad[0].Platform != "linux/amd64" || bad[0].Index != good {
		t.Errorf("the edited manifest is not found: %+v %v", bad, err)
	}
	_, changes, err = pins.Update(ctx, r, tampered, map[string][]string{refA: {"linux/amd64"}, refB: {"linux/amd64"}}, pins.UpdateOptions{})
	if err != nil || changes[0].Action != "repair" || changes[0].After.Platforms["linux/amd64"] != good {
		t.Errorf("lock kept the edited manifest: %+v %v", changes[0], err)
	}

	// The tag moves; a new platform is read from the locked index.
	a2 := f.index("linux/amd64", "linux/arm64", "linux/riscv64")
	f.tag("a", "v1", a2)
	c1 := f.index("linux/amd64")
	f.tag("c", "v1", c1)
	next, changes, err := pins.Update(ctx, r, lock, map[string][]string{refA: {"linux/amd64", "linux/arm64"}, refC: {"linux/amd64"}}, pins.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range changes {
		got[c.Ref] = c.Action
	}
	want := map[string]string{refA: "platforms", refC: "add", refB: "remove"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if next.Images[refA].Digest != a1.Digest.String() || len(next.Images[refA].Platforms) != 2 || next.Images[refB] != nil {
		t.Fatalf("lock after adding a platform: %+v", next.Images)
	}

	// -upgrade of one reference moves it alone.
	f.tag("c", "v1", f.index("linux/amd64", "linux/arm64"))
	up, changes, err := pins.Update(ctx, r, next, map[string][]string{refA: {"linux/amd64", "linux/arm64"}, refC: {"linux/amd64"}}, pins.UpdateOptions{Upgrade: true, Refs: []string{refA}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Images[refA].Digest != a2.Digest.String() || up.Images[refC].Digest != c1.Digest.String() || changes[0].Action != "upgrade" {
		t.Fatalf("upgrade of a alone: %+v %+v", up.Images, changes)
	}
	if _, _, err := pins.Update(ctx, r, next, map[string][]string{refA: {"linux/amd64"}}, pins.UpdateOptions{Upgrade: true, Refs: []string{"nothing:1"}}); err == nil || !strings.Contains(err.Error(), "no build pulls") {
		t.Errorf("upgrading a reference no build pulls: %v", err)
	}
}

// TestCheck: an online plan records what each locked tag points at now,
// "none" for a tag that is gone; unlocked images are not asked about.
func TestCheck(t *testing.T) {
	f, host, r := setup(t)
	a1 := f.index("linux/amd64")
	f.tag("a", "v1", a1)
	moved := &plan.Image{Ref: host + "/a:v1", Digest: "sha256:" + strings.Repeat("0", 64), Locked: true}
	gone := &plan.Image{Ref: host + "/b:v1", Digest: "sha256:" + strings.Repeat("0", 64), Locked: true}
	loose := &plan.Image{Ref: host + "/c:v1"}
	p := &plan.Plan{Steps: []*plan.Step{{ID: "build.x", Build: &plan.Build{Images: []*plan.Image{moved, gone, loose}}}}}
	if err := pins.Check(context.Background(), p, r); err != nil {
		t.Fatal(err)
	}
	if moved.Registry != a1.Digest.String() || !moved.Drifted() || gone.Registry != "none" || loose.Registry != "" {
		t.Fatalf("moved %q, gone %q, loose %q", moved.Registry, gone.Registry, loose.Registry)
	}
	if d := p.Drifted(); len(d) != 2 {
		t.Fatalf("drifted %v", d)
	}
}

// TestOnBuild: an image whose configuration has ONBUILD instructions is
// found for the platform a build pulls; one without has none.
func TestOnBuild(t *testing.T) {
	f, host, r := setup(t)
	ctx := context.Background()
	plain := f.index("linux/amd64", "linux/arm64")
	f.tag("plain", "v1", plain)
	cfg := f.put(ocispec.MediaTypeImageConfig, map[string]any{"architecture": "amd64", "os": "linux", "config": map[string]any{"OnBuild": []string{"COPY . /app"}}})
	m := f.put(ocispec.MediaTypeImageManifest, ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{}})
	m.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	trig := f.put(ocispec.MediaTypeImageIndex, ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{m}})
	for _, c := range []struct {
		ref  string
		at   ocispec.Descriptor
		want bool
	}{
		{host + "/plain:v1", plain, false},
		{host + "/trig:v1", trig, true},
		{host + "/single:v1", m, true},
	} {
		got, err := r.OnBuild(ctx, c.ref, c.at.Digest.String(), []string{"linux/amd64"})
		if err != nil || got != c.want {
			t.Errorf("%s: %t %v, want %t", c.ref, got, err, c.want)
		}
	}
}
