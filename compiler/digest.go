package compiler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"

	"github.com/bakeplan/bakeplan/plan"
)

// inputDigestVersion changes whenever what the input digest covers
// changes, so that digests made by different versions never match.
const inputDigestVersion = 2

// inputDigest is the build step's one digest over everything that decides
// its result (docs/plan-format.md, "The input digest"): the Dockerfile's
// bytes and the context trees (through their digests), the target stage,
// the args (sensitive ones through their fingerprints), the platforms and
// how each is built, the images the Dockerfile names, the named contexts,
// the labels and annotations, the exporter attributes that change the
// image, and the network mode and no_cache.
func inputDigest(b *plan.Build) string {
	type platform struct {
		Platform string   `json:"platform"`
		How      string   `json:"how"`
		Stages   []string `json:"stages,omitempty"`
	}
	type image struct {
		Ref       string   `json:"ref"`
		Platforms []string `json:"platforms"`
		Syntax    bool     `json:"syntax,omitempty"`
		Digest    string   `json:"digest"`
	}
	type context struct {
		Name, Target, Path, Image string
	}
	var d struct {
		Version     int               `json:"version"`
		Frontend    string            `json:"frontend"`
		Inputs      map[string]string `json:"inputs"` // kind -> digest
		Stage       string            `json:"stage"`
		Args        map[string]string `json:"args"`
		Platforms   []platform        `json:"platforms"`
		Images      []image           `json:"images"`
		Contexts    []context         `json:"contexts"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		Outputs     []map[string]string
		Network     string `json:"network"`
		NoCache     bool   `json:"no_cache"`
	}
	d.Version = inputDigestVersion
	d.Frontend = "dockerfile.v0"
	d.Inputs = map[string]string{}
	for _, in := range b.Inputs {
		d.Inputs[in.Kind] = in.Digest
	}
	if b.DockerfileInline != "" {
		d.Inputs["dockerfile_inline"] = sum([]byte(b.DockerfileInline))
	}
	d.Stage = b.Stage
	d.Args = withFingerprints(b.Args, "args.", b.SensitiveFingerprints)
	d.Labels = withFingerprints(b.Labels, "labels.", b.SensitiveFingerprints)
	d.Annotations = withFingerprints(b.Annotations, "annotations.", b.SensitiveFingerprints)
	for _, r := range b.Platforms {
		how := "native"
		switch {
		case r.CrossCompiled:
			how = "cross-compiled"
		case r.Emulated():
			how = "emulated"
		}
		d.Platforms = append(d.Platforms, platform{Platform: r.Platform, How: how, Stages: r.Stages})
	}
	for _, i := range b.Images {
		d.Images = append(d.Images, image{Ref: i.Ref, Platforms: i.Platforms, Syntax: i.Syntax, Digest: i.Digest})
	}
	for _, c := range b.Contexts {
		d.Contexts = append(d.Contexts, context{Name: c.Name, Target: c.Target, Path: c.Path, Image: c.Image})
	}
	for _, o := range b.Outputs {
		if len(o.Attrs) > 0 {
			m := map[string]string{"type": o.Type}
			for k, v := range o.Attrs {
				m[k] = v
			}
			d.Outputs = append(d.Outputs, m)
		}
	}
	sort.Slice(d.Outputs, func(i, j int) bool { return d.Outputs[i]["type"] < d.Outputs[j]["type"] })
	d.Network, d.NoCache = b.Network, b.NoCache
	data, _ := json.Marshal(d) // maps marshal with sorted keys
	return sum(data)
}

// withFingerprints is m with each sensitive value replaced by its
// fingerprint, which changes when the value does.
func withFingerprints(m map[string]string, prefix string, fps map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if fp, ok := fps[prefix+k]; ok {
			v = fp
		}
		out[k] = v
	}
	return out
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}
