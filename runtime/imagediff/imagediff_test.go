package imagediff_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/runtime/imagediff"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

type file struct {
	name, body string
	mtime      time.Time
}

// layout writes a one-platform image in an OCI layout: a config created
// at created, one gzipped layer of files, and an index with an
// attestation manifest.
func layout(t *testing.T, created string, files ...file) imagediff.Layout {
	dir := t.TempDir()
	put := func(mt string, b []byte) ocispec.Descriptor {
		d := digest.FromBytes(b)
		p := filepath.Join(dir, "blobs", "sha256", d.Encoded())
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(b))}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: f.mtime, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	zw.Close()
	layer := put(ocispec.MediaTypeImageLayerGzip, buf.Bytes())
	cfg, _ := json.Marshal(map[string]any{"created": created, "architecture": "amd64", "os": "linux", "config": map[string]any{"Env": []string{"PATH=/bin"}}})
	cd := put(ocispec.MediaTypeImageConfig, cfg)
	man, _ := json.Marshal(ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{layer}})
	md := put(ocispec.MediaTypeImageManifest, man)
	md.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	att := put(ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,"layers":[]}`))
	att.Platform = &ocispec.Platform{OS: "unknown", Architecture: "unknown"}
	idx, _ := json.Marshal(ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{md, att}})
	id := put(ocispec.MediaTypeImageIndex, idx)
	top, _ := json.Marshal(ocispec.Index{Manifests: []ocispec.Descriptor{id}})
	if err := os.WriteFile(filepath.Join(dir, ocispec.ImageIndexFile), top, 0o644); err != nil {
		t.Fatal(err)
	}
	return imagediff.Layout(dir)
}

// TestCompare: a rebuild that wrote a different /built, at another time,
// is explained by the config field and the file, down to its content and
// mtime; the file that did not change is not listed.
func TestCompare(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1700000000, 0)
	a := layout(t, "2023-11-14T22:13:20Z", file{"same", "x", t0}, file{"built", "Mon", t0})
	b := layout(t, "2026-11-27T16:00:00Z", file{"same", "x", t0}, file{"built", "Tuesday", t0.Add(time.Hour)})
	read := func(l imagediff.Layout) *imagediff.Images {
		top, err := l.Top()
		if err != nil {
			t.Fatal(err)
		}
		im, err := imagediff.Read(ctx, l, top)
		if err != nil {
			t.Fatal(err)
		}
		if len(im.ByPlatform) != 1 || len(im.Attestations) != 1 {
			t.Fatalf("images %+v", im)
		}
		return im
	}
	ai, bi := read(a), read(b)
	rep, err := imagediff.Compare(ctx, a, ai.ByPlatform["linux/amd64"], b, bi.ByPlatform["linux/amd64"])
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(rep)
	got := string(js)
	for _, want := range []string{
		`{"path":"created","before":"2023-11-14T22:13:20Z","after":"2026-11-27T16:00:00Z"}`,
		`"path":"/built","change":"changed"`,
		`{"path":"size","before":"3","after":"7"}`,
		`{"path":"mtime","before":"2023-11-14T22:13:20Z","after":"2023-11-14T23:13:20Z"}`,
		`{"path":"content","before":"sha256:`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"/same"`) || strings.Contains(got, "Env") {
		t.Errorf("report lists what did not change:\n%s", got)
	}
	if len(rep.Layers) != 1 || rep.Layers[0].Index != 0 {
		t.Errorf("layers %+v", rep.Layers)
	}
	same, err := imagediff.Compare(ctx, a, ai.ByPlatform["linux/amd64"], a, ai.ByPlatform["linux/amd64"])
	if err != nil || len(same.Config) != 0 || len(same.Layers) != 0 {
		t.Errorf("an image differs from itself: %+v %v", same, err)
	}
}
