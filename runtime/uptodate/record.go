// Package uptodate decides, from what a registry holds, which builds of a
// plan need not run, make-style: a pushed image carries the input digest of
// the build that made it (an annotation) and a compact record of those
// inputs, so that plan can tell an up-to-date build from one that must run
// and say why, one line per changed input. docs/plan-format.md describes
// the record.
package uptodate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/bakeplan/bakeplan/internal/keys"
	"github.com/bakeplan/bakeplan/plan"
)

// Annotations bakeplan writes on the images it pushes: on the index, or on
// the manifest of a single-platform image.
const (
	AnnotationDigest = "org.bakeplan.input.digest"
	AnnotationInputs = "org.bakeplan.inputs"
)

// MaxFiles bounds the context files a record lists: beyond it, a changed
// context is reported by count.
const MaxFiles = 200

// Record is what decided a build, compact enough for an annotation, to be
// compared field by field with the next plan's.
type Record struct {
	Version     int    `json:"v"`
	InputDigest string `json:"input_digest"`
	// Brief: the record holds only the input digest, the platforms and
	// the cache digest, as published by default; the rest is kept on the
	// machine that built it (SaveRecords).
	Brief       bool              `json:"brief,omitempty"`
	Stage       string            `json:"stage,omitempty"`
	Dockerfile  string            `json:"dockerfile,omitempty"` // its digest (or the inline text's)
	Context     string            `json:"context,omitempty"`    // the tree digest
	ContextPath string            `json:"context_path,omitempty"`
	Files       map[string]string `json:"files,omitempty"` // path -> content digest, up to MaxFiles
	FileCount   int               `json:"file_count,omitempty"`
	Contexts    map[string]string `json:"contexts,omitempty"` // named context -> its digest or source
	Args        map[string]string `json:"args,omitempty"`     // sensitive ones as fingerprints
	Platforms   []string          `json:"platforms"`
	Images      map[string]string `json:"images,omitempty"` // reference -> pinned or resolved digest, or "unpinned"
	// CacheTo is a digest of the cache exports: a build whose requested
	// cache export changed runs to write it, though its image would not
	// change.
	CacheTo string `json:"cache_to,omitempty"`
	// Run are the options every RUN gets (network, shm size, ulimits,
	// extra hosts, entitlements), so a reason can name the one that
	// changed. An older record has none; the input digest decides.
	Run map[string]string `json:"run,omitempty"`
	// Attrs are the attributes the input digest covers as derived from
	// their row (plan.DerivedInputs), by name, as text: an attribute
	// added to bakeplan is named in a reason with no code here.
	Attrs map[string]string `json:"attrs,omitempty"`
}

const recordVersion = 2

// NewRecord is b's record. files lists the main context (path to content
// digest), or is nil when it could not be read; deps are the input
// digests of the builds that feed b's target contexts, by context name.
func NewRecord(b *plan.Build, files map[string]string, deps map[string]string) Record {
	r := Record{Version: recordVersion, InputDigest: b.InputDigest, Stage: b.Stage, ContextPath: b.Context}
	for _, in := range b.Inputs {
		switch {
		case in.Kind == "dockerfile" || in.Kind == "dockerfile_inline":
			r.Dockerfile = in.Digest
		case in.Kind == "context":
			r.Context = in.Digest
		case strings.HasPrefix(in.Kind, "context:"):
			if r.Contexts == nil {
				r.Contexts = map[string]string{}
			}
			r.Contexts[strings.TrimPrefix(in.Kind, "context:")] = in.Digest
		}
	}
	for _, c := range b.Contexts {
		if r.Contexts == nil {
			r.Contexts = map[string]string{}
		}
		switch {
		case c.Target != "":
			r.Contexts[c.Name] = deps[c.Name]
		case c.Image != "":
			r.Contexts[c.Name] = "image " + c.Image
		case c.URL != "":
			r.Contexts[c.Name] = "url " + c.URL
		}
	}
	r.FileCount = len(files)
	if len(files) > 0 && len(files) <= MaxFiles {
		r.Files = make(map[string]string, len(files))
		for p, v := range files {
			r.Files[p] = compactFile(v)
		}
	}
	if len(b.Args) > 0 {
		r.Args = map[string]string{}
		for k, v := range b.Args {
			if fp, ok := b.SensitiveFingerprints["args."+k]; ok {
				v = "(sensitive " + fp + ")"
			}
			r.Args[k] = v
		}
	}
	for _, p := range b.Platforms {
		r.Platforms = append(r.Platforms, p.Platform)
	}
	for _, img := range b.Images {
		if r.Images == nil {
			r.Images = map[string]string{}
		}
		d := img.Pulls()
		if d == "" {
			d = "unpinned"
		}
		key := img.Ref
		if img.Syntax {
			key = "syntax " + key
		}
		r.Images[key] = d
	}
	r.Run = runOptions(b)
	for _, f := range plan.DerivedInputs() {
		if f.IsSet(b) {
			if r.Attrs == nil {
				r.Attrs = map[string]string{}
			}
			r.Attrs[f.Name] = f.Text(b, ",")
		}
	}
	if len(b.CacheTo) > 0 {
		data, _ := json.Marshal(b.CacheTo) // maps marshal sorted
		r.CacheTo = plan.ShortDigest(inputsDigest(data))
	}
	return r
}

// runOptions are b's options for every RUN, by spec attribute, as text.
func runOptions(b *plan.Build) map[string]string {
	out := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set("network", b.Network)
	if b.ShmSize > 0 {
		set("shm_size", strconv.FormatInt(b.ShmSize, 10))
	}
	set("ulimits", strings.Join(b.Ulimits, ","))
	var hosts []string
	for _, h := range keys.Union(b.ExtraHosts, nil) {
		hosts = append(hosts, h+"="+b.ExtraHosts[h])
	}
	set("extra_hosts", strings.Join(hosts, ","))
	set("entitlements", strings.Join(b.Entitlements, ","))
	if len(out) == 0 {
		return nil
	}
	return out
}

func inputsDigest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// compactFile shortens a listing's "sha256:HEX PERM" to the first 16 hex
// digits, with the permission bits when they are not 0644: enough to tell a
// change, small enough for hundreds of files in an annotation. Other
// entries (directories, links, pipes) stay as listed.
func compactFile(v string) string {
	d, perm, _ := strings.Cut(v, " ")
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok {
		return v
	}
	if len(hex) > 16 {
		hex = hex[:16]
	}
	if perm != "" && perm != "0644" {
		hex += " " + perm
	}
	return hex
}

// Annotations are the exporter attributes that put the record on the
// image: on the index for several platforms, on the manifest for one. The
// record is brief unless detailed is set.
func (r Record) Annotations(detailed bool) map[string]string {
	prefix := "annotation-index."
	if len(r.Platforms) == 1 {
		prefix = "annotation-manifest."
	}
	if !detailed {
		r = Record{Version: r.Version, InputDigest: r.InputDigest, Brief: true, Platforms: r.Platforms, CacheTo: r.CacheTo}
	}
	data, _ := json.Marshal(r) // maps marshal sorted
	return map[string]string{prefix + AnnotationDigest: r.InputDigest, prefix + AnnotationInputs: string(data)}
}

// parseRecord reads the record an image's annotations hold; ok is false
// when there is none (an image bakeplan did not build, or an older one).
func parseRecord(annotations map[string]string) (Record, bool) {
	var r Record
	s, ok := annotations[AnnotationInputs]
	if !ok || json.Unmarshal([]byte(s), &r) != nil || r.Version != recordVersion {
		return Record{}, false
	}
	return r, true
}
