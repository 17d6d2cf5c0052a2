// Package solve turns a build step of a plan into one BuildKit solve of the
// Dockerfile frontend and runs it.
//
// A Request is plain data: apply sends exactly what a dry run prints.
package solve

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bakeplan/bakeplan/internal/imageref"
	"github.com/bakeplan/bakeplan/plan"
)

// Frontend is the BuildKit frontend every build uses.
const Frontend = "dockerfile.v0"

// Request is everything sent to BuildKit for one build step.
type Request struct {
	// Entitlements are the privileges the solve asks the builder to allow.
	Entitlements []string

	// LayoutAttrs are exporter attributes of the OCI layout a build
	// exports for the builds that use it (and for verify): a release's
	// timestamps are rewritten, and the record annotations carried, as
	// in the image it pushes.
	LayoutAttrs map[string]string

	Step    string
	Target  string
	Builder string
	// Node is the pool node the build is placed on ("" for a builder with
	// one endpoint).
	Node     string
	Endpoint string // resolved, as dialled
	Frontend string
	// FrontendAttrs are the Dockerfile frontend's options. Named contexts fed
	// by another target carry a placeholder until that build has finished:
	// see TargetContexts.
	FrontendAttrs map[string]string
	// LocalDirs maps a local name (context, dockerfile, NAME for named
	// contexts) to an absolute directory sent through the session.
	LocalDirs map[string]string
	// ClampMtime, when set, is the SOURCE_DATE_EPOCH of a release build:
	// every file of LocalDirs is sent with it as its modification time,
	// so a RUN sees the same times on every checkout.
	ClampMtime int64
	// SharedKey names the copy of the local files BuildKit keeps between
	// solves and updates incrementally (empty: BuildKit's default, one per
	// client). An update keeps a directory's time from the solve that
	// created it, so a release sends into a copy of its own, kept for its
	// inputs: every directory in it is created with the epoch's time.
	SharedKey string
	// InlineDockerfile, when set, is written to a temporary directory that
	// becomes the "dockerfile" local.
	InlineDockerfile string
	// TargetContexts maps a named context to the build step (on the same
	// builder) whose result feeds it, passed as an OCI layout, not pushed.
	TargetContexts map[string]string
	Exports        []Export
	CacheImports   []Cache
	CacheExports   []Cache
	Secrets        []plan.Secret
	SSH            []plan.SSH
	// Sensitive lists the frontend attributes whose values come from
	// sensitive variables; printing shows them redacted.
	Sensitive map[string]bool
	// Call is the frontend subrequest (bake's call: check, outline,
	// targets) the solve asks instead of a build; "" for a build.
	Call string
}

// Export is one BuildKit exporter.
type Export struct {
	Type  string
	Attrs map[string]string
	// Dest is a file (oci tarball), a directory (local), or empty.
	Dest string
	// Load sends the exporter's tarball to the Docker Engine.
	Load bool
	// Push marks the push-by-digest export whose digest publish uses.
	Push bool
}

// Cache is a cache import or export.
type Cache struct {
	Type  string
	Attrs map[string]string
}

// Options are the facts about the run a request depends on.
type Options struct {
	SpecDir  string // absolute directory of the spec
	Endpoint string // the resolved endpoint
	// DockerEndpoint is true when the builder is a Docker Engine's BuildKit,
	// which loads images into its own store ("moby" exporter).
	DockerEndpoint bool
	// InsecureRegistries are hosts pushed to over plain HTTP.
	InsecureRegistries map[string]bool
	// Release is the plan's release epoch, for release builds.
	Release *plan.Release
	// Record are exporter annotations every image export carries (the
	// build's input record, for make-like skipping).
	Record map[string]string
}

// attestParams are an attestation's parameters as BuildKit's attest:TYPE
// attribute takes them: comma-separated key=value, sorted, type left out.
func attestParams(at map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(at)) {
		if k != "type" {
			kv = append(kv, k+"="+at[k])
		}
	}
	return strings.Join(kv, ",")
}

// pinImages makes the build pull the locked bytes of each image a lock
// file pins (or that an online plan resolved), whatever its tag points at
// now, without editing the
// Dockerfile: the frontend looks each FROM, COPY --from and RUN
// --mount=from image up as a named context first (by its familiar name,
// without ":latest"), and runs BUILDKIT_SYNTAX in place of the # syntax=
// directive. A named context the spec sets itself is left alone.
func pinImages(b *plan.Build, a map[string]string) {
	for _, img := range b.Images {
		if !img.Locked && img.Resolved == nil {
			continue // pinned by its own digest, or left to BuildKit
		}
		at := img.Ref + "@" + img.Pulls()
		if img.Syntax {
			a["build-arg:BUILDKIT_SYNTAX"] = at
			continue
		}
		key := "context:" + imageref.ContextName(img.Ref)
		if _, set := a[key]; !set {
			a[key] = "docker-image://" + at
		}
	}
}

// pinned is ref with the digest the build's lock pins it to, if any.
func pinned(b *plan.Build, ref string) string {
	full, _, err := imageref.Normalize(ref)
	if err != nil {
		return ref
	}
	for _, img := range b.Images {
		if (img.Locked || img.Resolved != nil) && !img.Syntax && img.Ref == full {
			return full + "@" + img.Pulls()
		}
	}
	return ref
}

// NewRequest translates a build step into the solve bakeplan sends.
func NewRequest(st *plan.Step, opts Options) (*Request, error) {
	b := st.Build
	if b == nil {
		return nil, fmt.Errorf("step %s is not a build", st.ID)
	}
	m := &requestMaker{st: st, b: b, opts: opts}
	r := &Request{
		Step:           st.ID,
		Target:         b.Target,
		Builder:        b.Builder,
		Node:           b.Node,
		Endpoint:       opts.Endpoint,
		Frontend:       Frontend,
		FrontendAttrs:  map[string]string{},
		LocalDirs:      map[string]string{"context": m.abs(b.Context)},
		TargetContexts: map[string]string{},
		Sensitive:      map[string]bool{},
	}
	m.r = r
	m.frontendAttrs()
	if err := m.contexts(); err != nil {
		return nil, err
	}
	pinImages(b, r.FrontendAttrs)
	release := m.release()
	for _, at := range b.Attest {
		r.FrontendAttrs["attest:"+at["type"]] = attestParams(at)
	}
	annotations := m.annotations()
	m.push(annotations)
	m.outputs(annotations)
	m.sessionAttachables()
	m.records(release)
	return r, nil
}

// requestMaker makes one build step's request, a part at a time.
type requestMaker struct {
	st   *plan.Step
	b    *plan.Build
	opts Options
	r    *Request
}

// abs is a plan path on disk: plan paths are relative to the spec's
// directory, but an output's dest may be absolute, as in bake.
func (m *requestMaker) abs(rel string) string {
	if p := filepath.FromSlash(rel); filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(m.opts.SpecDir, filepath.FromSlash(rel))
}

// platforms are the build's platforms, in the plan's order.
func (m *requestMaker) platforms() []string {
	var plats []string
	for _, p := range m.b.Platforms {
		plats = append(plats, p.Platform)
	}
	return plats
}

// frontendAttrs are the Dockerfile frontend's options: platforms, the
// file, a subrequest, args, labels, the cache and how RUN runs, and every
// attribute whose row names the option that carries it (the stage, the
// size of /dev/shm, ulimits).
func (m *requestMaker) frontendAttrs() {
	b, r, a := m.b, m.r, m.r.FrontendAttrs
	plats := m.platforms()
	a["platform"] = strings.Join(plats, ",")
	if b.DockerfileInline != "" {
		r.InlineDockerfile = b.DockerfileInline
		a["filename"] = "Dockerfile"
	} else {
		r.LocalDirs["dockerfile"] = m.abs(path.Dir(b.Dockerfile))
		a["filename"] = path.Base(b.Dockerfile)
	}
	for _, f := range plan.AttrFields() {
		if f.Frontend != "" && f.IsSet(b) {
			a[f.Frontend] = f.Text(b, ",")
		}
	}
	if b.Call != "" {
		// The frontend answers a subrequest instead of building; check
		// is its lint, as in buildx.
		name := b.Call
		if name == "check" {
			name = "lint"
		}
		r.Call = b.Call
		a["requestid"] = "frontend." + name
		a["frontend.caps"] = "moby.buildkit.frontend.subrequests+forward"
	}
	for k, v := range b.Args {
		r.setSensitive(b, "args."+k, "build-arg:"+k, v)
	}
	for k, v := range b.Labels {
		r.setSensitive(b, "labels."+k, "label:"+k, v)
	}
	switch {
	case b.NoCache:
		a["no-cache"] = ""
	case len(b.NoCacheFilter) > 0:
		a["no-cache"] = strings.Join(b.NoCacheFilter, ",")
	}
	if len(b.ExtraHosts) > 0 {
		var hosts []string
		for _, h := range slices.Sorted(maps.Keys(b.ExtraHosts)) {
			for _, ip := range strings.Split(b.ExtraHosts[h], ",") {
				hosts = append(hosts, h+"="+strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
			}
		}
		a["add-hosts"] = strings.Join(hosts, ",")
	}
	r.Entitlements = b.Entitlements
	if b.Network != "" && b.Network != "default" {
		a["force-network-mode"] = b.Network
	}
}

// contexts are the named contexts: another build's result (fed once it
// has finished), an image, or a local directory.
func (m *requestMaker) contexts() error {
	st, b, r, a := m.st, m.b, m.r, m.r.FrontendAttrs
	for _, nc := range b.Contexts {
		key := "context:" + nc.Name
		switch {
		case nc.Target != "":
			dep := ""
			for _, e := range st.Needs {
				if e.Kind == plan.EdgeData && e.Name == nc.Name {
					dep = e.Step
				}
			}
			if dep == "" {
				return fmt.Errorf("%s: no data edge feeds context %q", st.ID, nc.Name)
			}
			a[key] = "oci-layout://(result of " + dep + ")"
			r.TargetContexts[nc.Name] = dep
		case nc.Image != "":
			a[key] = "docker-image://" + pinned(b, nc.Image)
		default:
			a[key] = "local:" + nc.Name
			r.LocalDirs[nc.Name] = m.abs(nc.Path)
		}
	}
	return nil
}

// release makes a release build reproducible; it reports whether the
// build is one.
func (m *requestMaker) release() bool {
	b, opts, r, a := m.b, m.opts, m.r, m.r.FrontendAttrs
	if !b.Release || opts.Release == nil {
		return false
	}
	// BuildKit sets the image's created time and history from it.
	a["build-arg:SOURCE_DATE_EPOCH"] = strconv.FormatInt(opts.Release.SourceDateEpoch, 10)
	r.ClampMtime = opts.Release.SourceDateEpoch
	// BuildKit's cache matches a COPY by its sources' content, not their
	// times: a step cached by an ordinary build of the same sources (the
	// checkout's times) would stand in for this one, and every RUN after
	// it would see those times. A release reuses no cached step; one whose
	// inputs did not change is up to date and not solved at all.
	a["no-cache"] = ""
	r.SharedKey = "bakeplan-release-" + strings.TrimPrefix(b.InputDigest, "sha256:")
	return true
}

// annotations are the exporter attributes of the build's annotations,
// each by its level (annotation-index.KEY for index:KEY).
func (m *requestMaker) annotations() map[string]string {
	b, r := m.b, m.r
	annotations := map[string]string{}
	for k, v := range b.Annotations {
		key := "annotation." + k
		if typ, rest, ok := strings.Cut(k, ":"); ok {
			key = "annotation-" + typ + "." + rest
		}
		annotations[key] = v
		if b.SensitiveFingerprints["annotations."+k] != "" {
			annotations[key] = b.SensitiveValues["annotations."+k]
			r.Sensitive["export:"+key] = true
		}
	}
	return annotations
}

// push exports the image to its repositories by digest: the publish step
// writes the tags.
func (m *requestMaker) push(annotations map[string]string) {
	b, opts, r := m.b, m.opts, m.r
	if b.Push {
		repos, insecure := repositories(b.Tags, opts.InsecureRegistries)
		attrs := map[string]string{"name": strings.Join(repos, ","), "push": "true", "push-by-digest": "true"}
		if insecure {
			attrs["registry.insecure"] = "true"
		}
		for k, v := range annotations {
			attrs[k] = v
		}
		for _, o := range b.Outputs {
			if o.Type == "registry" {
				maps.Copy(attrs, o.Attrs)
			}
		}
		r.Exports = append(r.Exports, Export{Type: "image", Attrs: attrs, Push: true})
	}

}

// outputs are the exports other than the push: an OCI tarball, local
// files, or an image loaded into Docker.
func (m *requestMaker) outputs(annotations map[string]string) {
	b, opts, r := m.b, m.opts, m.r
	plats := m.platforms()
	abs := m.abs
	for _, o := range b.Outputs {
		if o.Type == "registry" {
			continue
		}
		attrs := maps.Clone(o.Attrs)
		if attrs == nil {
			attrs = map[string]string{}
		}
		for k, v := range annotations {
			attrs[k] = v
		}
		switch o.Type {
		case "oci":
			if len(b.Tags) > 0 {
				attrs["name"] = strings.Join(b.Tags, ",")
			}
			r.Exports = append(r.Exports, Export{Type: "oci", Attrs: attrs, Dest: abs(o.Dest)})
		case "local":
			local := map[string]string{}
			maps.Copy(local, o.Attrs)
			r.Exports = append(r.Exports, Export{Type: "local", Attrs: local, Dest: abs(o.Dest)})
		case "docker":
			if len(b.Tags) > 0 {
				attrs["name"] = strings.Join(b.Tags, ",")
			}
			switch {
			case opts.DockerEndpoint:
				// The engine's own BuildKit stores the image directly.
				r.Exports = append(r.Exports, Export{Type: "moby", Attrs: attrs})
			case len(plats) > 1:
				// Docker loads a multi-platform OCI tarball into the
				// containerd image store; the docker format holds one.
				r.Exports = append(r.Exports, Export{Type: "oci", Attrs: attrs, Load: true})
			default:
				r.Exports = append(r.Exports, Export{Type: "docker", Attrs: attrs, Load: true})
			}
		}
	}
}

// sessionAttachables are the caches, secrets and SSH agents.
func (m *requestMaker) sessionAttachables() {
	b, r, abs := m.b, m.r, m.abs
	for _, c := range b.CacheFrom {
		r.CacheImports = append(r.CacheImports, cacheEntry(c, abs))
	}
	for _, c := range b.CacheTo {
		r.CacheExports = append(r.CacheExports, cacheEntry(c, abs))
	}
	for _, s := range b.Secrets {
		r.Secrets = append(r.Secrets, *s)
	}
	for _, s := range b.SSH {
		r.SSH = append(r.SSH, *s)
	}
}

// records adds the build's input record to every image export (and a
// release's timestamp rewriting), and to the OCI layouts it exports.
func (m *requestMaker) records(release bool) {
	opts, r := m.opts, m.r
	for i, e := range r.Exports {
		if e.Type == "local" {
			continue
		}
		if release {
			// And the layers' file times, where newer than the epoch,
			// for every exporter that writes an image.
			r.Exports[i].Attrs["rewrite-timestamp"] = "true"
		}
		maps.Copy(r.Exports[i].Attrs, opts.Record)
	}
	r.LayoutAttrs = maps.Clone(opts.Record)
	if release {
		if r.LayoutAttrs == nil {
			r.LayoutAttrs = map[string]string{}
		}
		r.LayoutAttrs["rewrite-timestamp"] = "true"
	}
}

func (r *Request) setSensitive(b *plan.Build, planKey, attr, v string) {
	if b.SensitiveFingerprints[planKey] != "" {
		r.FrontendAttrs[attr] = b.SensitiveValues[planKey]
		r.Sensitive[attr] = true
		return
	}
	r.FrontendAttrs[attr] = v
}

// cacheEntry splits off the type; a local cache's paths are relative to the
// spec, like every other path in it.
func cacheEntry(m map[string]string, abs func(string) string) Cache {
	c := Cache{Type: m["type"], Attrs: map[string]string{}}
	for k, v := range m {
		switch {
		case k == "type":
		case c.Type == "local" && (k == "src" || k == "dest") && !filepath.IsAbs(v):
			c.Attrs[k] = abs(v)
		default:
			c.Attrs[k] = v
		}
	}
	return c
}

// repositories returns the distinct repositories of tags, which a push by
// digest writes to, and whether any of them needs plain HTTP.
func repositories(tags []string, insecureHosts map[string]bool) ([]string, bool) {
	seen := map[string]bool{}
	var out []string
	insecure := false
	for _, t := range tags {
		repo := t
		if i := strings.LastIndex(t, ":"); i > strings.LastIndex(t, "/") {
			repo = t[:i]
		}
		if !seen[repo] {
			seen[repo] = true
			out = append(out, repo)
		}
		host, _, _ := strings.Cut(repo, "/")
		insecure = insecure || insecureHosts[host]
	}
	sort.Strings(out)
	return out, insecure
}
