// Package diff computes what changed between two plans: steps added,
// removed, renamed and changed, attribute by attribute, with the reason a
// build must run again. It only computes; diff/render formats the result.
package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/internal/keys"
	"github.com/bakeplan/bakeplan/plan"
)

// FormatVersion is the version of the JSON diff format.
const FormatVersion = "1.0"

// Diff is the difference between a base plan and a head plan.
type Diff struct {
	FormatVersion string        `json:"format_version"`
	Base          Side          `json:"base"`
	Head          Side          `json:"head"`
	Variables     []*Change     `json:"variables,omitempty"`
	Steps         []*StepChange `json:"steps,omitempty"`
	Summary       Summary       `json:"summary"`
	headSteps     map[string]*plan.Step
	baseSteps     map[string]*plan.Step
}

// Side names one of the two plans.
type Side struct {
	Label      string `json:"label"` // a file, "working tree", or a revision
	PlanDigest string `json:"plan_digest"`
}

// Summary counts steps by what happens to them.
type Summary struct {
	Add    int `json:"add"`
	Change int `json:"change"`
	Remove int `json:"remove"`
}

// Changed reports whether the plans differ.
func (d *Diff) Changed() bool {
	return d.Summary.Add+d.Summary.Change+d.Summary.Remove > 0 || len(d.Variables) > 0
}

// StepChange is one step that differs.
type StepChange struct {
	ID string `json:"id"`
	// Action is add, remove, change or rename.
	Action string `json:"action"`
	// RenamedFrom is the base id of a renamed step.
	RenamedFrom string `json:"renamed_from,omitempty"`
	Kind        string `json:"kind"` // build, publish, emulator, docker, builder, registry
	Target      string `json:"target,omitempty"`
	// Changes are the attributes that differ; for an added or removed step,
	// its attributes.
	Changes []*Change `json:"changes,omitempty"`
	// Reasons say why a build must run again: which inputs changed.
	Reasons []string `json:"reasons,omitempty"`
}

// Change is one attribute that differs.
type Change struct {
	Path   string `json:"path"`
	Action string `json:"action"` // add, remove, change
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// For lists, the elements added and removed.
	Added     []string `json:"added,omitempty"`
	Removed   []string `json:"removed,omitempty"`
	Sensitive bool     `json:"sensitive,omitempty"`
}

// Options refine a diff.
type Options struct {
	BaseLabel, HeadLabel string
	// Files, when set, lists the files of an input of one side, for naming
	// which context files changed; nil reports only that the tree changed.
	Files func(side string, in *plan.Input, step *plan.Step) (map[string]string, error)
}

// Compute compares two plans. Steps are matched by id; a removed and an
// added build with the same inputs are a rename.
func Compute(base, head *plan.Plan, opts Options) *Diff {
	d := &Diff{
		FormatVersion: FormatVersion,
		Base:          Side{Label: opts.BaseLabel, PlanDigest: base.Digest},
		Head:          Side{Label: opts.HeadLabel, PlanDigest: head.Digest},
		headSteps:     map[string]*plan.Step{},
		baseSteps:     map[string]*plan.Step{},
	}
	d.Variables = variableChanges(base.Variables, head.Variables)
	for _, s := range base.Steps {
		d.baseSteps[s.ID] = s
	}
	for _, s := range head.Steps {
		d.headSteps[s.ID] = s
	}

	var added, removed []*plan.Step
	for _, s := range head.Steps {
		if _, ok := d.baseSteps[s.ID]; !ok {
			added = append(added, s)
		}
	}
	for _, s := range base.Steps {
		if _, ok := d.headSteps[s.ID]; !ok {
			removed = append(removed, s)
		}
	}
	renamedTo := map[string]string{} // base id -> head id
	for _, r := range removed {
		for _, a := range added {
			if a.Build != nil && r.Build != nil && sameInputs(r.Build, a.Build) && renamedTo[r.ID] == "" && !contains(renamedTo, a.ID) {
				renamedTo[r.ID] = a.ID
			}
		}
	}

	for _, s := range head.Steps {
		b, ok := d.baseSteps[s.ID]
		from := ""
		if !ok {
			for r, a := range renamedTo {
				if a == s.ID {
					b, from = d.baseSteps[r], r
				}
			}
		}
		switch {
		case b == nil:
			sc := &StepChange{ID: s.ID, Action: "add", Kind: kind(s), Target: target(s)}
			sc.Changes = attrChanges(nil, flatten(s), "add")
			d.Steps = append(d.Steps, sc)
			d.Summary.Add++
		default:
			changes := compareSteps(b, s)
			var why []string
			if s.Build != nil && b.Build != nil {
				why = reasons(b, s, opts)
			}
			if from == "" && len(changes) == 0 && len(why) == 0 {
				continue
			}
			sc := &StepChange{ID: s.ID, Action: "change", Kind: kind(s), Target: target(s), Changes: changes, Reasons: why}
			if from != "" {
				sc.Action, sc.RenamedFrom = "rename", from
			}
			d.Steps = append(d.Steps, sc)
			d.Summary.Change++
		}
	}
	for _, s := range removed {
		if renamedTo[s.ID] != "" {
			continue
		}
		sc := &StepChange{ID: s.ID, Action: "remove", Kind: kind(s), Target: target(s)}
		sc.Changes = attrChanges(flatten(s), nil, "remove")
		d.Steps = append(d.Steps, sc)
		d.Summary.Remove++
	}
	return d
}

func contains(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

// Step returns the head (or, for removed steps, base) version of a step.
func (d *Diff) Step(id string) *plan.Step {
	if s, ok := d.headSteps[id]; ok {
		return s
	}
	return d.baseSteps[id]
}

func kind(s *plan.Step) string {
	id, _, _ := strings.Cut(s.ID, ".")
	if id == "host" {
		if s.Emulator != nil {
			return "emulator"
		}
		return "docker"
	}
	return id
}

func target(s *plan.Step) string {
	switch {
	case s.Build != nil:
		return s.Build.Target
	case s.Publish != nil:
		return s.Publish.Target
	}
	return ""
}

func sameInputs(a, b *plan.Build) bool {
	x, _ := json.Marshal(a.Inputs)
	y, _ := json.Marshal(b.Inputs)
	return bytes.Equal(x, y) && a.Context == b.Context
}

// value is one flattened attribute: a scalar, or a list compared as a set.
type value struct {
	scalar    string
	list      []string
	isList    bool
	sensitive bool
}

// ignored attributes describe where a step came from or what a probe saw,
// not what the step does.
var ignored = map[string]bool{"declared_at": true, "observed": true, "change": true, "action": true, "id": true}

// flatten turns a step into attribute paths such as build.platforms or
// build.args.VERSION, with the kind's own object at the root.
func flatten(s *plan.Step) map[string]value {
	b, _ := json.Marshal(s)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := map[string]value{}
	for k, v := range m {
		if ignored[k] {
			continue
		}
		if k == "needs" {
			out["needs"] = value{isList: true, list: needsList(s.Needs)}
			continue
		}
		if obj, ok := v.(map[string]any); ok {
			flattenInto(out, "", obj, s)
			continue
		}
		out[k] = scalar(v)
	}
	return out
}

func flattenInto(out map[string]value, prefix string, obj map[string]any, s *plan.Step) {
	var fps map[string]string
	if s.Build != nil {
		fps = s.Build.SensitiveFingerprints
	}
	for k, v := range obj {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		switch {
		case p == "sensitive_fingerprints" || p == "inputs" || p == "input_digest" || p == "status":
			continue // compared through the values they stand for, and as reasons
		case p == "node" || p == "placement":
			// Where a pool's build runs is not what it builds: a saved
			// plan is applied where its builds are placed when it runs.
			continue
		case p == "platforms" && s.Build != nil:
			var l []string
			for _, r := range s.Build.Platforms {
				l = append(l, r.Platform+" ("+r.How()+")")
			}
			out[p] = value{isList: true, list: l}
		case p == "images" && s.Build != nil:
			var l []string
			for _, img := range s.Build.Images {
				l = append(l, imageText(img))
			}
			out[p] = value{isList: true, list: l}
		case p == "contexts" && s.Build != nil:
			var l []string
			for _, c := range s.Build.Contexts {
				switch {
				case c.Target != "":
					l = append(l, c.Name+" = target."+c.Target)
				case c.Image != "":
					l = append(l, c.Name+" = image "+c.Image)
				default:
					l = append(l, c.Name+" = "+c.Path)
				}
			}
			out[p] = value{isList: true, list: l}
		default:
			switch x := v.(type) {
			case map[string]any:
				if k == "args" || k == "labels" || k == "annotations" {
					for mk, mv := range x {
						key := p + "." + mk
						val := scalar(mv)
						if fp, ok := fps[k+"."+mk]; ok {
							val = value{scalar: fp, sensitive: true}
						}
						out[key] = val
					}
					continue
				}
				flattenInto(out, p, x, s)
			case []any:
				var l []string
				for _, e := range x {
					l = append(l, scalar(e).scalar)
				}
				out[p] = value{isList: true, list: l}
			default:
				out[p] = scalar(v)
			}
		}
	}
}

func scalar(v any) value {
	switch x := v.(type) {
	case string:
		return value{scalar: x}
	case nil:
		return value{scalar: ""}
	default:
		b, _ := json.Marshal(x)
		return value{scalar: string(b)}
	}
}

func needsList(es []plan.Edge) []string {
	var l []string
	for _, e := range es {
		s := e.Step + " (" + string(e.Kind)
		if e.Name != "" {
			s += " " + e.Name
		}
		l = append(l, s+")")
	}
	return l
}

func compareSteps(b, h *plan.Step) []*Change {
	bf, hf := flatten(b), flatten(h)
	var out []*Change
	for _, p := range keys.Union(bf, hf) {
		bv, inB := bf[p]
		hv, inH := hf[p]
		switch {
		case inB && inH:
			if c := compareValue(p, bv, hv); c != nil {
				out = append(out, c)
			}
		case inH:
			out = append(out, newChange(p, "add", value{}, hv))
		case inB:
			out = append(out, newChange(p, "remove", bv, value{}))
		}
	}
	return out
}

func compareValue(p string, b, h value) *Change {
	if b.isList || h.isList {
		added, removed := setDiff(b.list, h.list)
		if len(added) == 0 && len(removed) == 0 {
			return nil
		}
		return &Change{Path: p, Action: "change", Added: added, Removed: removed}
	}
	if b.scalar == h.scalar && b.sensitive == h.sensitive {
		return nil
	}
	return newChange(p, "change", b, h)
}

func newChange(p, action string, b, h value) *Change {
	c := &Change{Path: p, Action: action, Sensitive: b.sensitive || h.sensitive}
	if b.isList || h.isList {
		c.Added, c.Removed = setDiff(b.list, h.list)
		return c
	}
	c.Before, c.After = b.scalar, h.scalar
	if b.sensitive {
		c.Before = plan.Redacted
	}
	if h.sensitive {
		c.After = plan.Redacted
	}
	return c
}

func attrChanges(b, h map[string]value, action string) []*Change {
	var out []*Change
	for _, p := range keys.Union(b, h) {
		out = append(out, newChange(p, action, b[p], h[p]))
	}
	return out
}

func setDiff(before, after []string) (added, removed []string) {
	in := func(l []string, x string) bool {
		for _, y := range l {
			if y == x {
				return true
			}
		}
		return false
	}
	for _, x := range after {
		if !in(before, x) {
			added = append(added, x)
		}
	}
	for _, x := range before {
		if !in(after, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}

func variableChanges(base, head []*plan.Variable) []*Change {
	bm, hm := map[string]*plan.Variable{}, map[string]*plan.Variable{}
	var names []string
	for _, v := range base {
		bm[v.Name] = v
		names = append(names, v.Name)
	}
	for _, v := range head {
		if _, ok := bm[v.Name]; !ok {
			names = append(names, v.Name)
		}
		hm[v.Name] = v
	}
	sort.Strings(names)
	show := func(v *plan.Variable) string {
		if v.Sensitive {
			return plan.Redacted
		}
		return compactJSON(v.Value)
	}
	var out []*Change
	for _, n := range names {
		b, h := bm[n], hm[n]
		path := "var." + n
		switch {
		case b == nil:
			out = append(out, &Change{Path: path, Action: "add", After: show(h), Sensitive: h.Sensitive})
		case h == nil:
			out = append(out, &Change{Path: path, Action: "remove", Before: show(b), Sensitive: b.Sensitive})
		case compactJSON(b.Value) != compactJSON(h.Value) || b.Fingerprint != h.Fingerprint || b.Sensitive != h.Sensitive:
			out = append(out, &Change{Path: path, Action: "change", Before: show(b), After: show(h), Sensitive: b.Sensitive || h.Sensitive})
		}
	}
	return out
}

// reasons names the inputs whose digests changed, down to the files when
// opts.Files can list them.
func reasons(b, h *plan.Step, opts Options) []string {
	bi := map[string]*plan.Input{}
	for _, in := range b.Build.Inputs {
		bi[in.Kind] = in
	}
	var out []string
	for _, in := range h.Build.Inputs {
		old, ok := bi[in.Kind]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s %s is new", in.Kind, orInline(in.Path)))
		case old.Digest != in.Digest || old.Path != in.Path:
			what := fmt.Sprintf("%s %s changed", in.Kind, orInline(in.Path))
			if in.Kind == "dockerfile" || in.Kind == "dockerfile_inline" {
				out = append(out, what)
				continue
			}
			if files := changedFiles(b, h, old, in, opts); files != "" {
				what += ": " + files
			}
			out = append(out, what)
		}
	}
	return append(out, imageReasons(b.Build, h.Build)...)
}

// imageReasons names each image whose pin changed.
func imageReasons(b, h *plan.Build) []string {
	before := map[string]*plan.Image{}
	for _, img := range b.Images {
		before[imageKey(img)] = img
	}
	var out []string
	for _, img := range h.Images {
		old, ok := before[imageKey(img)]
		if !ok || old.Digest == img.Digest {
			continue
		}
		out = append(out, fmt.Sprintf("base %s %s → %s", img.Familiar(), pinText(old), pinText(img)))
	}
	return out
}

func imageKey(img *plan.Image) string {
	if img.Syntax {
		return "syntax " + img.Ref
	}
	return img.Ref
}

func pinText(img *plan.Image) string {
	if img.Digest == "" {
		return "unpinned"
	}
	return plan.ShortDigest(img.Digest)
}

// imageText is an image as a diff lists it: what it is and for which
// platforms; a change of its pin is a reason (imageReasons).
func imageText(img *plan.Image) string {
	kind := ""
	if img.Syntax {
		kind = "frontend "
	}
	return fmt.Sprintf("%s%s (%s)", kind, img.Familiar(), strings.Join(img.Platforms, ", "))
}

func orInline(p string) string {
	if p == "" {
		return "(inline)"
	}
	return p
}

// NotCommitted starts the listing value of a working-tree file that no
// commit holds (untracked or ignored by git): a side read from the working
// tree marks such files so, and they are named apart from the changes a
// commit makes.
const NotCommitted = "not-committed "

func changedFiles(b, h *plan.Step, old, in *plan.Input, opts Options) string {
	if opts.Files == nil {
		return ""
	}
	bf, err1 := opts.Files("base", old, b)
	hf, err2 := opts.Files("head", in, h)
	if err1 != nil || err2 != nil {
		return ""
	}
	var changed, loose []string
	for _, f := range keys.Union(bf, hf) {
		bd, inB := bf[f]
		hd, inH := hf[f]
		hd, notCommitted := strings.CutPrefix(hd, NotCommitted)
		switch {
		case !inB && notCommitted:
			loose = append(loose, f)
		case !inB:
			changed = append(changed, "+"+f)
		case !inH:
			changed = append(changed, "-"+f)
		case bd != hd:
			changed = append(changed, "~"+f)
		}
	}
	const most = 10
	text := func(list []string) string {
		if len(list) > most {
			return strings.Join(list[:most], ", ") + fmt.Sprintf(" and %d more", len(list)-most)
		}
		return strings.Join(list, ", ")
	}
	out := text(changed)
	if len(loose) > 0 {
		if out != "" {
			out += "; "
		}
		out += "not committed (untracked or ignored by git): " + text(loose)
	}
	return out
}

// Stale lists what changed between a saved plan and the plan its inputs give
// now (the spec, variables, Dockerfiles, context trees, and the host state a
// probed plan recorded). An empty list means the saved plan is current.
func Stale(saved, now *plan.Plan) []string {
	var out []string
	if saved.Spec.Digest != now.Spec.Digest {
		out = append(out, fmt.Sprintf("the spec %s changed", saved.Spec.File))
	}
	if lockDigest(saved) != lockDigest(now) {
		out = append(out, "the lock file changed: "+lockDigest(saved)+" -> "+lockDigest(now))
	}
	if saved.NativePlatform != now.NativePlatform {
		out = append(out, fmt.Sprintf("the native platform changed: %s -> %s", saved.NativePlatform, now.NativePlatform))
	}
	d := Compute(saved, now, Options{})
	for _, v := range d.Variables {
		out = append(out, v.Path+" changed")
	}
	for _, sc := range d.Steps {
		switch sc.Action {
		case "add":
			out = append(out, sc.ID+" is new")
		case "remove":
			out = append(out, sc.ID+" is gone")
		default:
			for _, r := range sc.Reasons {
				out = append(out, sc.ID+": "+r)
			}
			for _, c := range sc.Changes {
				out = append(out, sc.ID+": "+c.Path+" changed")
			}
		}
	}
	// A plan applied --offline is not probed now: the host it was made
	// against cannot be compared, and applying offline accepts that.
	if !now.Probed() {
		return out
	}
	for _, s := range saved.Steps {
		if s.Observed == nil && s.Change == nil {
			continue
		}
		if s.Builder != nil && len(s.Builder.Nodes) > 0 {
			// A pool's nodes coming and going is what placement and
			// failover are for, not a reason to refuse the plan.
			continue
		}
		n := now.Step(s.ID)
		if n == nil {
			continue
		}
		if !equalMaps(s.Observed, n.Observed) || changeSummary(s.Change) != changeSummary(n.Change) {
			out = append(out, fmt.Sprintf("%s: the host changed since the plan was made (%s -> %s)", s.ID, hostState(s), hostState(n)))
		}
	}
	return out
}

// lockDigest names a plan's lock file by its digest, or says it had none.
func lockDigest(p *plan.Plan) string {
	if p.Lock == nil {
		return "none"
	}
	return p.Lock.Digest
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func changeSummary(c *plan.Change) string {
	if c == nil {
		return ""
	}
	return c.Symbol + " " + c.Summary
}

func hostState(s *plan.Step) string {
	if s.Change != nil {
		return "needs: " + changeSummary(s.Change)
	}
	return "matches"
}

// compactJSON is a value's JSON without layout: a plan read from a file
// holds it indented, a plan just made holds it compact.
func compactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
