// Package imagediff explains how two OCI images differ, for a release
// engineer who must find why a rebuild does not match what was published:
// the configuration fields that differ (created, history, env, labels,
// ...), the layers that differ, and inside them the files (path; size,
// mode, mtime, content digest), in the spirit of diffoci --semantic.
// Blobs come from an OCI layout on disk or a registry.
package imagediff

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakeplan/bakeplan/internal/keys"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Blobs opens content by its descriptor.
type Blobs interface {
	Open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error)
}

// Layout is an OCI image layout directory.
type Layout string

// Open reads a blob of the layout.
func (l Layout) Open(_ context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return os.Open(filepath.Join(string(l), "blobs", desc.Digest.Algorithm().String(), desc.Digest.Encoded()))
}

// Top is the image (index or manifest) the layout's index.json names.
func (l Layout) Top() (ocispec.Descriptor, error) {
	b, err := os.ReadFile(filepath.Join(string(l), ocispec.ImageIndexFile))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("%s: %w", ocispec.ImageIndexFile, err)
	}
	if len(idx.Manifests) == 0 {
		return ocispec.Descriptor{}, errors.New("the layout holds no image")
	}
	return idx.Manifests[len(idx.Manifests)-1], nil
}

// Remote reads blobs through a registry fetcher.
type Remote struct{ remotes.Fetcher }

// Open fetches a blob.
func (r Remote) Open(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	return r.Fetch(ctx, desc)
}

// maxJSON bounds the manifests and configurations read.
const maxJSON = 8 << 20

func readJSON(ctx context.Context, b Blobs, desc ocispec.Descriptor, v any) error {
	rc, err := b.Open(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxJSON))
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Images are the platform images of an index (or the single manifest
// top), by platform, and its attestation manifests.
type Images struct {
	ByPlatform   map[string]ocispec.Descriptor
	Attestations []ocispec.Descriptor
}

// Read lists the images top holds.
func Read(ctx context.Context, b Blobs, top ocispec.Descriptor) (*Images, error) {
	out := &Images{ByPlatform: map[string]ocispec.Descriptor{}}
	if !images.IsIndexType(top.MediaType) {
		var m ocispec.Manifest
		if err := readJSON(ctx, b, top, &m); err != nil {
			return nil, fmt.Errorf("reading manifest %s: %w", top.Digest, err)
		}
		var cfg ocispec.Image
		if err := readJSON(ctx, b, m.Config, &cfg); err != nil {
			return nil, fmt.Errorf("reading config %s: %w", m.Config.Digest, err)
		}
		out.ByPlatform[platforms.Format(platforms.Normalize(cfg.Platform))] = top
		return out, nil
	}
	var idx ocispec.Index
	if err := readJSON(ctx, b, top, &idx); err != nil {
		return nil, fmt.Errorf("reading index %s: %w", top.Digest, err)
	}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" {
			out.Attestations = append(out.Attestations, d)
			continue
		}
		out.ByPlatform[platforms.Format(platforms.Normalize(*d.Platform))] = d
	}
	return out, nil
}

// Change is one value that differs.
type Change struct {
	Path   string `json:"path"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// FileDiff is a file of a layer that differs.
type FileDiff struct {
	Path   string   `json:"path"`
	Change string   `json:"change"` // added, removed, changed
	Fields []Change `json:"fields,omitempty"`
}

// LayerDiff is a layer that differs, by position.
type LayerDiff struct {
	Index  int        `json:"index"`
	Before string     `json:"before,omitempty"` // digest; empty when the image has no such layer
	After  string     `json:"after,omitempty"`
	Files  []FileDiff `json:"files,omitempty"`
	// More counts the differing files left out beyond the first MaxFiles.
	More int `json:"more,omitempty"`
}

// Report is how two images differ.
type Report struct {
	Config []Change    `json:"config,omitempty"`
	Layers []LayerDiff `json:"layers,omitempty"`
}

// MaxFiles bounds the files listed per layer.
const MaxFiles = 50

// Compare explains how image b (after) differs from image a (before); both
// are single-platform manifests.
func Compare(ctx context.Context, a Blobs, ad ocispec.Descriptor, b Blobs, bd ocispec.Descriptor) (*Report, error) {
	var am, bm ocispec.Manifest
	if err := readJSON(ctx, a, ad, &am); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", ad.Digest, err)
	}
	if err := readJSON(ctx, b, bd, &bm); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", bd.Digest, err)
	}
	rep := &Report{}
	if am.Config.Digest != bm.Config.Digest {
		var ac, bc any
		if err := readJSON(ctx, a, am.Config, &ac); err != nil {
			return nil, fmt.Errorf("reading config %s: %w", am.Config.Digest, err)
		}
		if err := readJSON(ctx, b, bm.Config, &bc); err != nil {
			return nil, fmt.Errorf("reading config %s: %w", bm.Config.Digest, err)
		}
		rep.Config = diffValues("", ac, bc)
	}
	for i := 0; i < max(len(am.Layers), len(bm.Layers)); i++ {
		ld := LayerDiff{Index: i}
		if i < len(am.Layers) {
			ld.Before = am.Layers[i].Digest.String()
		}
		if i < len(bm.Layers) {
			ld.After = bm.Layers[i].Digest.String()
		}
		if ld.Before == ld.After {
			continue
		}
		if ld.Before != "" && ld.After != "" {
			af, err := files(ctx, a, am.Layers[i])
			if err != nil {
				return nil, fmt.Errorf("reading layer %d (%s): %w", i, ld.Before, err)
			}
			bf, err := files(ctx, b, bm.Layers[i])
			if err != nil {
				return nil, fmt.Errorf("reading layer %d (%s): %w", i, ld.After, err)
			}
			ld.Files, ld.More = diffFiles(af, bf)
		}
		rep.Layers = append(rep.Layers, ld)
	}
	return rep, nil
}

// entry is what a layer records of a file.
type entry struct {
	typ     string
	size    int64
	mode    string
	mtime   string
	owner   string
	link    string
	content string
}

func files(ctx context.Context, b Blobs, desc ocispec.Descriptor) (map[string]entry, error) {
	rc, err := b.Open(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dr, err := compression.DecompressStream(rc)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	tr := tar.NewReader(dr)
	out := map[string]entry{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		e := entry{
			typ: typeName(h.Typeflag), size: h.Size, mode: fmt.Sprintf("%04o", h.Mode&0o7777),
			mtime: h.ModTime.UTC().Format("2006-01-02T15:04:05Z"), owner: fmt.Sprintf("%d:%d", h.Uid, h.Gid), link: h.Linkname,
		}
		if h.Typeflag == tar.TypeReg {
			s := sha256.New()
			if _, err := io.Copy(s, tr); err != nil {
				return nil, err
			}
			e.content = "sha256:" + hex.EncodeToString(s.Sum(nil))
		}
		out["/"+strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")] = e
	}
}

func typeName(t byte) string {
	switch t {
	case tar.TypeReg:
		return "file"
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	default:
		return fmt.Sprintf("type %c", t)
	}
}

func diffFiles(a, b map[string]entry) ([]FileDiff, int) {
	var out []FileDiff
	more := 0
	paths := keys.Union(a, b)
	for _, p := range paths {
		ae, inA := a[p]
		be, inB := b[p]
		var fd FileDiff
		switch {
		case !inA:
			fd = FileDiff{Path: p, Change: "added"}
		case !inB:
			fd = FileDiff{Path: p, Change: "removed"}
		case ae != be:
			fd = FileDiff{Path: p, Change: "changed"}
			for _, f := range []struct{ name, x, y string }{
				{"type", ae.typ, be.typ}, {"size", fmt.Sprint(ae.size), fmt.Sprint(be.size)}, {"mode", ae.mode, be.mode},
				{"mtime", ae.mtime, be.mtime}, {"owner", ae.owner, be.owner}, {"link", ae.link, be.link}, {"content", ae.content, be.content},
			} {
				if f.x != f.y {
					fd.Fields = append(fd.Fields, Change{Path: f.name, Before: f.x, After: f.y})
				}
			}
		default:
			continue
		}
		if len(out) >= MaxFiles {
			more++
			continue
		}
		out = append(out, fd)
	}
	return out, more
}

// diffValues compares two JSON values field by field: "created",
// "config.Env[1]", "history[2].created".
func diffValues(path string, a, b any) []Change {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []Change
		for _, k := range keys.Union(am, bm) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			out = append(out, diffValues(p, am[k], bm[k])...)
		}
		return out
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok {
		var out []Change
		for i := 0; i < max(len(al), len(bl)); i++ {
			var x, y any
			if i < len(al) {
				x = al[i]
			}
			if i < len(bl) {
				y = bl[i]
			}
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), x, y)...)
		}
		return out
	}
	as, bs := jsonText(a), jsonText(b)
	if as == bs {
		return nil
	}
	return []Change{{Path: path, Before: as, After: bs}}
}

func jsonText(v any) string {
	if v == nil {
		return "(none)"
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
