package plan

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"path"
	"sort"
	"strings"
)

// FormatVersion is the version of the JSON plan format. Readers accept any
// plan with the same major version and refuse others.
const FormatVersion = "2.0"

// Plan is a compiled, checked build plan.
type Plan struct {
	FormatVersion string `json:"format_version"`
	// Digest is the SHA-256 of the plan's canonical JSON with Digest empty;
	// it identifies the plan and exposes edits made by hand.
	Digest string `json:"digest"`
	Spec   Spec   `json:"spec"`
	// NativePlatform is the platform of the machine that made the plan: local
	// builders without declared platforms serve it natively.
	NativePlatform string `json:"native_platform"`
	// Select is the targets and groups the plan was made for; empty means
	// the default selection.
	Select []string `json:"select,omitempty"`
	// Lock is the lock file the images were pinned from, when the spec has
	// one.
	Lock *LockFile `json:"lock,omitempty"`
	// Release is the SOURCE_DATE_EPOCH of a spec with a release block.
	Release   *Release    `json:"release,omitempty"`
	Variables []*Variable `json:"variables"`
	// Set are the --set overrides the plan was made with, in order.
	Set []string `json:"set,omitempty"`
	// Steps are in a topological order: every step follows the steps it needs.
	Steps []*Step `json:"steps"`

	// index finds a step by id (Index); it stands only for the Steps it
	// was made of.
	index *stepIndex
}

// stepIndex is where each step of one Steps slice is.
type stepIndex struct {
	first **Step // the slice it was made of: its first element and length
	n     int
	at    map[string]int
}

// Index makes Step a map lookup instead of a scan (a large plan looks up
// every build). A plan whose Steps are replaced or extended afterwards is
// scanned again, so an index never gives a wrong answer; it is made once,
// before the plan is shared between goroutines.
func (p *Plan) Index() {
	if len(p.Steps) == 0 {
		return
	}
	ix := &stepIndex{first: &p.Steps[0], n: len(p.Steps), at: make(map[string]int, len(p.Steps))}
	for i, s := range p.Steps {
		if _, dup := ix.at[s.ID]; !dup {
			ix.at[s.ID] = i
		}
	}
	p.index = ix
}

// Spec identifies the spec a plan was compiled from.
type Spec struct {
	File   string `json:"file"`   // relative to the spec directory
	Digest string `json:"digest"` // sha256 of the file's bytes
	// Path is the spec as plan was told to read it (-f), relative to the
	// working directory plan ran in; apply PLANFILE reads it from there.
	Path string `json:"path,omitempty"`
	// Overrides are the further spec files laid on it (-f given again),
	// likewise; Digest covers them too.
	Overrides []string `json:"overrides,omitempty"`
}

// Release says when a reproducible release's builds say they were made,
// and where that came from.
type Release struct {
	SourceDateEpoch int64  `json:"source_date_epoch"`
	Source          string `json:"source"`
}

// LockFile identifies the lock file a plan read its pins from.
type LockFile struct {
	File   string `json:"file"`   // relative to the spec directory
	Digest string `json:"digest"` // sha256 of the file's bytes
}

// Variable is one resolved input variable.
type Variable struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Value is the JSON form of the value; absent for a sensitive variable.
	Value json.RawMessage `json:"value,omitempty"`
	// Sensitive variables carry a fingerprint instead of their value, so that
	// a change is visible without the value.
	Sensitive   bool   `json:"sensitive,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Source says where the value came from: default, env, file or cli.
	Source string `json:"source"`
}

// Action is what a step does.
type Action string

// Actions. Host steps are "check" (verified, cannot be fixed by bakeplan) or
// "ensure" (verified and fixed on apply with approval); a probed host step
// that already matches its declaration becomes "no-op".
const (
	ActionCheck   Action = "check"
	ActionEnsure  Action = "ensure"
	ActionBuild   Action = "build"
	ActionPublish Action = "publish"
	ActionNoop    Action = "no-op"
)

// EdgeKind says why a step needs another.
type EdgeKind string

// Edge kinds.
const (
	EdgeData  EdgeKind = "data"  // the result feeds the step (contexts)
	EdgeOrder EdgeKind = "order" // the other step must finish first (depends_on)
	EdgeHost  EdgeKind = "host"  // a host requirement the step relies on
	EdgeBuild EdgeKind = "build" // a publish waits for the builds it publishes
)

// Edge is one dependency of a step.
type Edge struct {
	Step string   `json:"step"`
	Kind EdgeKind `json:"kind"`
	// Name is the named context a data edge feeds.
	Name string `json:"name,omitempty"`
}

// Range is a source location, for diagnostics raised after planning.
type Range struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
}

// Step is one node of the plan. Exactly one of the kind-specific fields is
// set; its name matches the prefix of ID.
type Step struct {
	ID         string `json:"id"`
	Action     Action `json:"action"`
	Needs      []Edge `json:"needs,omitempty"`
	DeclaredAt *Range `json:"declared_at,omitempty"`

	// Observed is what a host probe found, for host steps in a plan made
	// online; absent offline.
	Observed map[string]string `json:"observed,omitempty"`
	// Change is what apply would do to the host for this step; absent when
	// the host already matches or the plan was made offline.
	Change *Change `json:"change,omitempty"`

	Docker   *DockerRequirement `json:"docker,omitempty"`
	Emulator *Emulator          `json:"emulator,omitempty"`
	Builder  *Builder           `json:"builder,omitempty"`
	Registry *Registry          `json:"registry,omitempty"`
	Build    *Build             `json:"build,omitempty"`
	Publish  *Publish           `json:"publish,omitempty"`
}

// Change is a difference between the host as it is and as declared, and the
// fix apply would make.
type Change struct {
	// Symbol is "+" (add), "~" (change in place) or "-/+" (replace).
	Symbol string `json:"symbol"`
	// Summary says what apply would do, in one line.
	Summary string `json:"summary"`
	Before  string `json:"before,omitempty"`
	After   string `json:"after,omitempty"`
	// Destructive changes lose or hide something (Docker's image store
	// switch hides the images of the old store) and need explicit consent.
	Destructive bool   `json:"destructive,omitempty"`
	Note        string `json:"note,omitempty"`
}

// DockerRequirement is the host.docker.image_store step.
type DockerRequirement struct {
	ImageStore string `json:"image_store"` // "containerd"
	// DaemonConfig and RestartCommand say how to switch the store, when the
	// spec names them; flags override them, and the defaults are
	// /etc/docker/daemon.json and systemctl restart docker.
	DaemonConfig   string   `json:"daemon_config,omitempty"`
	RestartCommand []string `json:"restart_command,omitempty"`
}

// Emulator is a host.emulator.ARCH step: a QEMU binfmt_misc entry.
type Emulator struct {
	Arch        string   `json:"arch"`
	Interpreter string   `json:"interpreter"` // binfmt_misc entry name, e.g. qemu-aarch64
	Flags       string   `json:"flags"`       // the flags the entry needs
	Platforms   []string `json:"platforms"`   // the planned platforms that rely on it
}

// Builder is a builder.NAME step: one BuildKit node.
type Builder struct {
	Name string `json:"name"`
	// Endpoint as declared: auto, docker, unix://, tcp://, ssh://,
	// docker-container://, kube-pod://. "auto" is BUILDKIT_HOST, else Docker.
	// Empty for a pool.
	Endpoint string `json:"endpoint,omitempty"`
	// Nodes are a pool's endpoints, which serve the same platforms; each
	// build step is placed on one (Build.Node). MaxSolves bounds each
	// node's concurrent solves (0: no bound).
	Nodes     []string `json:"nodes,omitempty"`
	MaxSolves int      `json:"max_solves,omitempty"`
	// Local builders run on this host and can use its emulators.
	Local bool `json:"local"`
	// Platforms the node serves natively.
	Platforms []string `json:"platforms"`
	// TLS holds client TLS settings for a tcp:// endpoint: file paths,
	// never key material.
	TLS *BuilderTLS `json:"tls,omitempty"`
}

// BuilderTLS is how bakeplan authenticates to a tcp:// builder or checks a
// registry's certificate (and presents a client certificate to it).
type BuilderTLS struct {
	CACert     string `json:"ca_cert,omitempty"`
	Cert       string `json:"cert,omitempty"`
	Key        string `json:"key,omitempty"`
	ServerName string `json:"server_name,omitempty"`
}

// Registry is a registry.NAME step.
type Registry struct {
	Name     string `json:"name"`
	Host     string `json:"host"`
	Insecure bool   `json:"insecure,omitempty"`
	// TLS is the private CA (and client certificate) that probes and tag
	// writes use; BuildKit's pushes use its own registry configuration.
	TLS *BuilderTLS `json:"tls,omitempty"`
}

// PlatformRun is one platform of a build step and how it runs.
type PlatformRun struct {
	Platform string `json:"platform"`
	Native   bool   `json:"native"`
	// Emulator is the architecture whose emulator an emulated platform needs.
	Emulator string `json:"emulator,omitempty"`
	// CrossCompiled: a foreign platform whose build runs every RUN on the
	// builder's own platform (FROM --platform=$BUILDPLATFORM), so it needs
	// no emulator.
	CrossCompiled bool `json:"cross_compiled,omitempty"`
	// Stages and RunSteps say, for an emulated platform whose Dockerfile
	// was read, which stages run RUN steps on it and how many.
	Stages   []string `json:"stages,omitempty"`
	RunSteps int      `json:"run_steps,omitempty"`
}

// Build is a build.TARGET step: one Dockerfile solve on one builder node.
type Build struct {
	Target  string `json:"target"`
	Builder string `json:"builder"`
	// Node is, for a builder with a pool of nodes, the node the build runs
	// on, and Placement why that one.
	Node      string        `json:"node,omitempty"`
	Placement string        `json:"placement,omitempty"`
	Platforms []PlatformRun `json:"platforms"`

	// Paths are slash-separated and relative to the spec's directory.
	Context          string              `json:"context"`
	Dockerfile       string              `json:"dockerfile,omitempty"`
	DockerfileInline string              `json:"dockerfile_inline,omitempty"`
	Stage            string              `json:"stage,omitempty"`
	Args             map[string]string   `json:"args,omitempty"`
	Labels           map[string]string   `json:"labels,omitempty"`
	Annotations      map[string]string   `json:"annotations,omitempty"`
	Tags             []string            `json:"tags,omitempty"`
	Contexts         []*NamedContext     `json:"contexts,omitempty"`
	Outputs          []*Output           `json:"outputs,omitempty"`
	CacheFrom        []map[string]string `json:"cache_from,omitempty"`
	CacheTo          []map[string]string `json:"cache_to,omitempty"`
	Secrets          []*Secret           `json:"secrets,omitempty"`
	SSH              []*SSH              `json:"ssh,omitempty"`
	NoCache          bool                `json:"no_cache,omitempty"`
	// NoCacheFilter are the stages built without the cache.
	NoCacheFilter []string `json:"no_cache_filter,omitempty"`
	// ShmSize is /dev/shm's size for RUN, in bytes (0: BuildKit's default).
	ShmSize int64 `json:"shm_size,omitempty"`
	// Ulimits are RUN's ulimits, as name=soft:hard.
	Ulimits []string `json:"ulimits,omitempty"`
	// ExtraHosts are extra /etc/hosts entries, host name to IP address.
	ExtraHosts map[string]string `json:"extra_hosts,omitempty"`
	// Hostname is the host name RUN sees ("" for BuildKit's default).
	Hostname string `json:"hostname,omitempty"`
	// Entitlements are the privileges RUN may use (network.host,
	// security.insecure).
	Entitlements []string `json:"entitlements,omitempty"`
	Network      string   `json:"network,omitempty"`
	// Call is the frontend subrequest the step runs instead of the build
	// (check, outline, targets; bake's call): it exports, pushes and tags
	// nothing, and reports what the frontend answered.
	Call string `json:"call,omitempty"`
	// Push is true when the result goes to a registry; the build pushes by
	// digest and the publish step writes the tags.
	Push bool `json:"push,omitempty"`
	// Release builds reproducibly: SOURCE_DATE_EPOCH (the plan's Release)
	// for every time the image and its layers record.
	Release bool `json:"release,omitempty"`
	// Attest are the attestations pushed with the image, each with its
	// type (sbom, provenance) and parameters.
	Attest []map[string]string `json:"attest,omitempty"`

	// Inputs are the files the build reads, with their digests.
	Inputs []*Input `json:"inputs"`
	// SensitiveFingerprints maps "args.NAME" (likewise labels, annotations)
	// to a fingerprint of a value shown as Redacted.
	SensitiveFingerprints map[string]string `json:"sensitive_fingerprints,omitempty"`
	// Images are the images the build pulls (FROM, COPY --from, RUN
	// --mount=from, docker-image:// contexts, the # syntax= frontend),
	// sorted by reference.
	Images []*Image `json:"images,omitempty"`
	// Frontend is the custom frontend (a "# syntax=" or BUILDKIT_SYNTAX
	// image that is no Dockerfile frontend) that reads the file instead of
	// BuildKit's Dockerfile frontend. bakeplan cannot read what it pulls,
	// so such a build is never up to date.
	Frontend string `json:"frontend,omitempty"`
	// Remote are the ADD sources BuildKit fetches from a URL or a git
	// repository. One without a pin (--checksum, a commit) is an input
	// nobody can know before the build: the build is never up to date.
	Remote []*Remote `json:"remote,omitempty"`
	// InputDigest is one digest over everything that decides the build's
	// result; docs/plan-format.md says what it covers and what it does not.
	InputDigest string `json:"input_digest,omitempty"`

	// Status is, in a plan made online, what the registry holds for a
	// pushed build: whether it must run and why (absent: not checked).
	Status *BuildStatus `json:"status,omitempty"`

	// SensitiveValues holds the real values behind Redacted, keyed like
	// SensitiveFingerprints. It is filled by the compiler for an in-process
	// apply and never serialised: a saved plan carries only fingerprints.
	SensitiveValues map[string]string `json:"-"`
}

// Image is an image a build pulls, and what it is pinned to.
type Image struct {
	// Ref is the reference after ARG substitution, normalized
	// (docker.io/library/golang:1.26).
	Ref string `json:"ref"`
	// Platforms are the platforms it is pulled for: the target platforms,
	// or the builder's for a stage FROM --platform=$BUILDPLATFORM.
	Platforms []string `json:"platforms"`
	// Syntax marks the frontend a "# syntax=" directive names.
	Syntax bool `json:"syntax,omitempty"`
	// Digest is what the build pulls: the lock file's pin (Locked), or the
	// digest the reference itself carries. Empty for an unpinned image,
	// which the build resolves when it runs.
	Digest string `json:"digest,omitempty"`
	Locked bool   `json:"locked,omitempty"`
	// Registry is, for a locked image in a plan made online, what the
	// reference points at in the registry now ("none" when the tag is
	// gone); it differs from Digest when the pin has drifted.
	Registry string `json:"registry,omitempty"`
	// Resolved is, for an image nothing pins (Digest empty), what an online
	// plan found its reference pointing at: the build pulls exactly that,
	// and the input digest covers it.
	Resolved *Resolved `json:"resolved,omitempty"`
	// Unresolved is why an online plan could not resolve the image, when
	// it was told to build anyway: such a build is never up to date.
	Unresolved string `json:"unresolved,omitempty"`
	// OnBuild: an online plan found ONBUILD instructions in the image,
	// which may read any file of the context.
	OnBuild bool `json:"onbuild,omitempty"`
	// Origin is where the image is named (a Dockerfile line, the spec's
	// contexts entry) as diagnostics name the file, for messages; it is
	// not saved.
	Origin *Range `json:"-"`
}

// Remote is an ADD source fetched by BuildKit.
type Remote struct {
	Source string `json:"source"`
	// At is the Dockerfile line that names it (path relative to the spec's
	// directory, ":" and the line).
	At     string `json:"at"`
	Pinned bool   `json:"pinned,omitempty"`
}

// Unknowable lists the inputs of b that cannot be known before it runs:
// remote sources without a pin, and images an online plan could not
// resolve. Each is a reason the build is never up to date.
func (b *Build) Unknowable() []string {
	var out []string
	for _, r := range b.Remote {
		if !r.Pinned {
			out = append(out, fmt.Sprintf("ADD %s (%s) has no --checksum or commit, so what it fetches is not known before the build", r.Source, r.At))
		}
	}
	if b.Frontend != "" {
		out = append(out, fmt.Sprintf("the custom frontend %s reads the Dockerfile, and what it pulls cannot be known before the build", b.Frontend))
	}
	for _, img := range b.Images {
		if img.Unresolved != "" {
			out = append(out, fmt.Sprintf("image %s could not be resolved: %s", img.Familiar(), img.Unresolved))
		}
		if img.OnBuild {
			out = append(out, fmt.Sprintf("image %s has ONBUILD instructions, which may read any file of the context, and the input digest covers only what the Dockerfile reads", img.Familiar()))
		}
	}
	return out
}

// Resolved is what an unpinned reference pointed at when a plan was made.
type Resolved struct {
	// Digest is the index (or single manifest) the tag points at.
	Digest string `json:"digest"`
	// Platforms maps each platform the build pulls to the manifest
	// BuildKit picks from the index for it; empty for a single manifest.
	Platforms map[string]string `json:"platforms,omitempty"`
}

// Pulls is the digest the build pulls: the pin, else what an online plan
// resolved, else "" (BuildKit resolves the tag when it runs).
func (i *Image) Pulls() string {
	if i.Digest != "" {
		return i.Digest
	}
	if i.Resolved != nil {
		return i.Resolved.Digest
	}
	return ""
}

// Familiar is the reference as people write it: golang:1.26 for
// docker.io/library/golang:1.26.
func (i *Image) Familiar() string { return FamiliarRef(i.Ref) }

// FamiliarRef is a normalized reference as people write it: golang:1.26
// for docker.io/library/golang:1.26.
func FamiliarRef(ref string) string {
	if rest, ok := strings.CutPrefix(ref, "docker.io/"); ok {
		return strings.TrimPrefix(rest, "library/")
	}
	return ref
}

// ShortDigest abbreviates a digest for a line of prose:
// sha256:ab12ab12ab12… (a reader compares the plan's whole digests).
func ShortDigest(d string) string {
	if algo, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return algo + ":" + hex[:12] + "…"
	}
	return d
}

// Drifted says whether an online plan found the image's tag moved away
// from its pin.
func (i *Image) Drifted() bool { return i.Locked && i.Registry != "" && i.Registry != i.Digest }

// Drifted lists the locked images whose tags an online plan found moved,
// once per reference, sorted.
func (p *Plan) Drifted() []*Image {
	seen := map[string]bool{}
	var out []*Image
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		for _, img := range st.Build.Images {
			if img.Drifted() && !seen[img.Ref] {
				seen[img.Ref] = true
				out = append(out, img)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

// BuildState is whether a build must run.
type BuildState string

// The states of a build.
const (
	UpToDate BuildState = "up-to-date" // every tag holds an image of these inputs
	Retag    BuildState = "retag"      // one does; the others move to it without a build
	MustRun  BuildState = "build"      // it must run
)

// BuildStatus is whether a pushed build's inputs are already published.
type BuildStatus struct {
	State BuildState `json:"state"`
	// Digest is the published image that holds these inputs.
	Digest string `json:"digest,omitempty"`
	// From, for a re-tag, is the repository that holds Digest when some
	// tags are in another: apply copies the image there (blobs mounted
	// where the registry allows) instead of building it again.
	From    string   `json:"from,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
}

// Skips says whether apply runs no solve for the build.
func (s *BuildStatus) Skips() bool {
	return s != nil && (s.State == UpToDate || s.State == Retag)
}

// Redacted stands in for a sensitive value.
const Redacted = "(sensitive)"

// NamedContext is one entry of a build's contexts. Exactly one of Target,
// Path, Image and URL is set.
type NamedContext struct {
	Name   string `json:"name"`
	Target string `json:"target,omitempty"` // data edge to that target's build
	Path   string `json:"path,omitempty"`
	Image  string `json:"image,omitempty"`
	URL    string `json:"url,omitempty"`
}

// Output is one export of a build other than the registry push.
type Output struct {
	Type string `json:"type"` // registry, oci, local, docker
	Dest string `json:"dest,omitempty"`
	// Attrs are further BuildKit exporter attributes (compression,
	// oci-mediatypes, ...), checked against what the exporter knows.
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Secret names where a build secret is read at build time; never its value.
type Secret struct {
	ID   string `json:"id"`
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// SSH is an SSH agent socket or key set forwarded to a build.
type SSH struct {
	ID    string   `json:"id"`
	Paths []string `json:"paths,omitempty"`
}

// Input is a file or tree a build reads.
type Input struct {
	// Kind is dockerfile, dockerfile_inline, context or context:NAME.
	Kind   string `json:"kind"`
	Path   string `json:"path,omitempty"`
	Digest string `json:"digest"`
	// Reads, for the main context, are the paths of it the build reads
	// (COPY and ADD sources, RUN bind mounts), the only ones Digest
	// covers; empty when it reads none. Nil when Digest covers the whole
	// context, and ReadsAll says why.
	Reads    []string `json:"reads,omitempty"`
	ReadsAll string   `json:"reads_all,omitempty"`
}

// Whole says whether the input's digest covers the whole context.
func (in *Input) Whole() bool { return in.Reads == nil }

// Publish is a publish.TARGET step: it writes the tags of a pushed image once
// every build of the run succeeded.
type Publish struct {
	Target    string   `json:"target"`
	Tags      []string `json:"tags"`
	Platforms []string `json:"platforms"`
}

// Step returns the step with the given id, or nil.
func (p *Plan) Step(id string) *Step {
	if ix := p.index; ix != nil && ix.n == len(p.Steps) && ix.n > 0 && ix.first == &p.Steps[0] {
		if i, ok := ix.at[id]; ok && p.Steps[i].ID == id {
			return p.Steps[i]
		}
		// A step replaced in place since: scan.
	}
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// Probed reports whether the plan was made online: a host probe recorded
// what it found, or a change, on some step.
func (p *Plan) Probed() bool {
	for _, s := range p.Steps {
		if s.Observed != nil || s.Change != nil {
			return true
		}
	}
	return false
}

// How says how a platform is built: "native", "cross-compiled, no
// emulation", or "emulated: 3 RUN steps in stages build, final" (with only
// the emulator's architecture when the Dockerfile was not read).
func (r PlatformRun) How() string {
	switch {
	case r.Native:
		return "native"
	case r.CrossCompiled:
		return "cross-compiled, no emulation"
	case r.RunSteps > 0:
		steps := "RUN steps"
		if r.RunSteps == 1 {
			steps = "RUN step"
		}
		stages := "stages"
		if len(r.Stages) == 1 {
			stages = "stage"
		}
		return fmt.Sprintf("emulated: %d %s in %s %s", r.RunSteps, steps, stages, strings.Join(r.Stages, ", "))
	}
	return "emulated: " + r.Emulator
}

// Emulated says whether the platform runs under an emulator.
func (r PlatformRun) Emulated() bool { return !r.Native && !r.CrossCompiled }

// NodeName is a short name for a pool node's endpoint, for people: the host
// of tcp:// and ssh:// (without user and port), the container or pod name,
// the socket's file name; anything else as it is.
func NodeName(endpoint string) string {
	scheme, rest, ok := strings.Cut(endpoint, "://")
	if !ok {
		return endpoint
	}
	switch scheme {
	case "tcp", "ssh":
		if _, host, ok := strings.Cut(rest, "@"); ok {
			rest = host
		}
		rest, _, _ = strings.Cut(rest, "/")
		if h, _, err := net.SplitHostPort(rest); err == nil {
			rest = h
		}
		return rest
	case "unix":
		return path.Base(rest)
	case "docker-container", "kube-pod":
		name, _, _ := strings.Cut(rest, "?")
		return name
	}
	return endpoint
}

// What a probe records of a pool's nodes, on the builder step's Observed:
// under NodeKey(node), "up: …" or NodeDown and why.
const NodeDown = "down: "

// NodeKey is the Observed key of a pool node's state.
func NodeKey(node string) string { return "node " + node }

// DownNodes are the pool nodes a probe found down on this builder step,
// each with why.
func (s *Step) DownNodes() map[string]string {
	down := map[string]string{}
	if s.Builder == nil {
		return down
	}
	for _, n := range s.Builder.Nodes {
		if why, ok := strings.CutPrefix(s.Observed[NodeKey(n)], NodeDown); ok {
			down[n] = why
		}
	}
	return down
}

// DownNodes are the pool nodes a probe found down, over every builder.
func (p *Plan) DownNodes() map[string]string {
	down := map[string]string{}
	for _, st := range p.Steps {
		maps.Copy(down, st.DownNodes())
	}
	return down
}
