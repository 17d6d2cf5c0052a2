package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
)

// inputDigestVersion changes whenever what the input digest covers, or
// how it is encoded, changes, so that digests made by different versions
// never match.
const inputDigestVersion = 5

// InputDigest is the build step's one digest over everything that decides
// its result (docs/plan-format.md, "The input digest"): the Dockerfile's
// bytes and the context trees (through their digests), the target stage,
// the args (sensitive ones through their fingerprints), the platforms and
// how each is built, the images it pulls with the digests they are pinned
// to, the named contexts, the labels and annotations, the exporter
// attributes that change the image, the network mode and no_cache, and
// for a release its SOURCE_DATE_EPOCH and attestations.
//
// It is SHA-256 over a canonical encoding:
// every field by name, every string length-prefixed, maps in key order,
// lists in the plan's order. A thousand builds digest in a millisecond or
// two, where encoding each as JSON first took ten. It is the list of what
// is covered, field by field, in one place to review
// (TestEveryBuildFieldIsDigestedOrExempt checks it against Build).
func InputDigest(b *Build, rel *Release) string {
	d := digester{b: make([]byte, 0, 1024)}
	d.int("version", inputDigestVersion)
	d.str("frontend", "dockerfile.v0")
	inputs := map[string]string{}
	for _, in := range b.Inputs {
		inputs[in.Kind] = in.Digest
	}
	if b.DockerfileInline != "" {
		inputs["dockerfile_inline"] = sum([]byte(b.DockerfileInline))
	}
	d.strMap("inputs", inputs)
	d.str("stage", b.Stage)
	d.strMap("args", withFingerprints(b.Args, "args.", b.SensitiveFingerprints))
	d.strMap("labels", withFingerprints(b.Labels, "labels.", b.SensitiveFingerprints))
	d.strMap("annotations", withFingerprints(b.Annotations, "annotations.", b.SensitiveFingerprints))
	d.platforms(b.Platforms)
	d.images(b.Images)
	if b.Frontend != "" { // written only when set: other digests stay as they were
		d.str("custom_frontend", b.Frontend)
	}
	d.int("remote", len(b.Remote))
	for _, r := range b.Remote {
		d.str("source", r.Source)
		d.bool("pinned", r.Pinned)
	}
	d.int("contexts", len(b.Contexts))
	for _, c := range b.Contexts {
		d.str("name", c.Name)
		d.str("target", c.Target)
		d.str("path", c.Path)
		d.str("image", c.Image)
		d.str("url", c.URL)
	}
	d.outputs(b.Outputs)
	d.str("network", b.Network)
	if b.Call != "" { // written only when set: older digests stay as they were
		d.str("call", b.Call)
	}
	d.bool("no_cache", b.NoCache)
	d.strs("no_cache_filter", b.NoCacheFilter)
	d.int("shm_size", int(b.ShmSize))
	d.strs("ulimits", b.Ulimits)
	d.strMap("extra_hosts", b.ExtraHosts)
	d.strs("entitlements", b.Entitlements)
	d.bool("release", b.Release)
	if b.Release && rel != nil {
		d.int("source_date_epoch", int(rel.SourceDateEpoch))
	}
	d.int("attest", len(b.Attest))
	for _, a := range b.Attest {
		d.strMap("attestation", a)
	}
	// Every other attribute's field the digest covers, under the
	// attribute's name, only when set: adding an attribute leaves the
	// digest of every build that does not use it as it was.
	for _, f := range digestedAsSet {
		if f.IsSet(b) {
			f.digest(&d, b)
		}
	}
	return sum(d.b)
}

// platforms writes how each platform is built.
func (d *digester) platforms(runs []PlatformRun) {
	d.int("platforms", len(runs))
	for _, r := range runs {
		how := "native"
		switch {
		case r.CrossCompiled:
			how = "cross-compiled"
		case r.Emulated():
			how = "emulated"
		}
		d.str("platform", r.Platform)
		d.str("how", how)
		d.strs("stages", r.Stages)
	}
}

// images writes the images a build pulls and what they are pinned or
// resolved to.
func (d *digester) images(images []*Image) {
	d.int("images", len(images))
	for _, i := range images {
		d.str("ref", i.Ref)
		d.strs("platforms", i.Platforms)
		d.bool("syntax", i.Syntax)
		d.str("digest", i.Digest)
		if i.Digest == "" && i.Resolved != nil {
			// What each platform pulls, so that a moved tag changes the
			// digest and a change to a platform no build pulls does not.
			if len(i.Resolved.Platforms) == 0 {
				d.str("resolved", i.Resolved.Digest)
			} else {
				d.int("resolved", len(i.Platforms))
				for _, p := range i.Platforms {
					d.raw(p)
					d.raw(i.Resolved.Platforms[p])
				}
			}
		}
	}
}

// outputs writes the exporter attributes, by output type in a fixed order.
func (d *digester) outputs(outputs []*Output) {
	outs := slices.Clone(outputs)
	slices.SortStableFunc(outs, func(x, y *Output) int {
		if x.Type < y.Type {
			return -1
		}
		if x.Type > y.Type {
			return 1
		}
		return 0
	})
	for _, o := range outs {
		if len(o.Attrs) > 0 {
			d.str("output", o.Type)
			d.strMap("attrs", o.Attrs)
		}
	}
}

// digestedByHand are the attributes' fields InputDigest writes itself,
// above: in an order and encoding fixed before the rest were derived, so
// that digests made before stay valid.
var digestedByHand = map[string]bool{
	"DockerfileInline": true, "Stage": true, "Args": true, "Labels": true, "Annotations": true,
	"Platforms": true, "Contexts": true, "Outputs": true, "Network": true, "Call": true,
	"NoCache": true, "NoCacheFilter": true, "ShmSize": true, "Ulimits": true, "ExtraHosts": true,
	"Entitlements": true, "Release": true, "Attest": true,
}

// DerivedInputs are the attributes' fields the input digest covers
// without code of its own (under the attribute's name, when set). The
// caller must not change the slice.
func DerivedInputs() []AttrField { return digestedAsSet }

// digestedAsSet are the other attributes' fields the digest covers.
var digestedAsSet = func() []AttrField {
	var out []AttrField
	for _, f := range attrFields {
		if f.NotInput == "" && !digestedByHand[f.Field] {
			out = append(out, f)
		}
	}
	return out
}()

// digester encodes fields for the hash, each as its name and its value,
// strings length-prefixed, so that no two different inputs share an
// encoding.
type digester struct {
	b []byte
}

func (d *digester) raw(s string) {
	d.b = binary.AppendUvarint(d.b, uint64(len(s)))
	d.b = append(d.b, s...)
}

func (d *digester) int(name string, v int) {
	d.raw(name)
	d.b = binary.AppendUvarint(d.b, uint64(v))
}

func (d *digester) str(name, v string) {
	d.raw(name)
	d.raw(v)
}

func (d *digester) bool(name string, v bool) {
	s := "false"
	if v {
		s = "true"
	}
	d.str(name, s)
}

func (d *digester) strs(name string, v []string) {
	d.int(name, len(v))
	for _, s := range v {
		d.raw(s)
	}
}

func (d *digester) strMap(name string, m map[string]string) {
	d.int(name, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d.raw(k)
		d.raw(m[k])
	}
}

// withFingerprints is m with each sensitive value replaced by its
// fingerprint, which changes when the value does.
func withFingerprints(m map[string]string, prefix string, fps map[string]string) map[string]string {
	if len(m) == 0 || len(fps) == 0 {
		return m
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

// FoldDependencies folds into each build's input digest the input digests
// of the builds that feed it as named contexts (contexts = { x = target.y
// }), transitively: their results decide this build's, so a change to
// one of them must change it too.
func FoldDependencies(steps []*Step) {
	byID := map[string]*Step{}
	for _, st := range steps {
		if st.Build != nil {
			byID[st.ID] = st
		}
	}
	done := map[string]bool{}
	var fold func(st *Step)
	fold = func(st *Step) {
		if done[st.ID] {
			return
		}
		done[st.ID] = true
		d := digester{b: []byte(st.Build.InputDigest)}
		deps := 0
		for _, e := range st.Needs { // sorted by step, kind and name
			dep := byID[e.Step]
			if e.Kind != EdgeData || dep == nil {
				continue
			}
			fold(dep)
			d.str("context "+e.Name, dep.Build.InputDigest)
			deps++
		}
		if deps > 0 {
			st.Build.InputDigest = sum(d.b)
		}
	}
	for _, st := range steps {
		if st.Build != nil {
			fold(st)
		}
	}
}

// DigestInputs computes every build's input digest again, after an online
// plan resolved the images nothing pins.
func (p *Plan) DigestInputs() {
	for _, st := range p.Steps {
		if st.Build != nil {
			st.Build.InputDigest = InputDigest(st.Build, p.Release)
		}
	}
	FoldDependencies(p.Steps)
}

// digest writes b's value of a plain field under the attribute's name.
func (f AttrField) digest(d *digester, b *Build) {
	v := f.value(b)
	switch f.Kind {
	case KindString:
		d.str(f.Name, v.String())
	case KindBool:
		d.bool(f.Name, v.Bool())
	case KindInt:
		d.int(f.Name, int(v.Int()))
	case KindList:
		d.strs(f.Name, v.Interface().([]string))
	case KindMap:
		d.strMap(f.Name, v.Interface().(map[string]string))
	case KindMaps:
		ms := v.Interface().([]map[string]string)
		d.int(f.Name, len(ms))
		for _, m := range ms {
			d.strMap("", m)
		}
	default:
		panic(fmt.Sprintf("plan.Build.%s (%s) is structured: digest it in InputDigest", f.Field, f.Name))
	}
}
