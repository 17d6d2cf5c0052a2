// Package render formats a plan for people and tools: the human plan text,
// and the step graph as Graphviz dot or Mermaid. It only formats; every
// decision was made by the compiler.
package render

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/plan"
)

// Text writes the plan as bakeplan plan shows it: variables, then every step
// in the order it runs, with platforms, inputs and edges, and a summary.
func Text(w io.Writer, p *plan.Plan) error {
	ew := &errWriter{w: w}
	ew.printf("Plan for %s (%s)\n", p.Spec.File, short(p.Spec.Digest))
	if p.Lock != nil {
		ew.printf("Images pinned by %s (%s)\n", p.Lock.File, short(p.Lock.Digest))
	}
	if r := p.Release; r != nil {
		ew.printf("Release: SOURCE_DATE_EPOCH=%d (%s), from the %s\n", r.SourceDateEpoch, time.Unix(r.SourceDateEpoch, 0).UTC().Format(time.RFC3339), r.Source)
	}
	if len(p.Variables) > 0 {
		ew.printf("\nVariables:\n")
		for _, v := range p.Variables {
			val := string(v.Value)
			if v.Sensitive {
				val = plan.Redacted
			}
			ew.printf("  var.%s = %s  (%s)\n", v.Name, val, v.Source)
		}
	}
	if p.Probed() {
		hostSection(ew, p)
	}
	if drifted := p.Drifted(); len(drifted) > 0 {
		ew.printf("\nLocked images that moved in their registries:\n")
		for _, img := range drifted {
			now := short(img.Registry)
			if img.Registry == "none" {
				now = "no such tag"
			}
			ew.printf("  ~ base %s  %s (locked) ≠ %s (registry)\n", img.Familiar(), short(img.Digest), now)
		}
	}
	ew.printf("\nSteps, in order:\n")
	for _, s := range p.Steps {
		action := string(s.Action)
		if s.Build != nil && s.Build.Status != nil && s.Build.Status.State != plan.MustRun {
			action = string(s.Build.Status.State)
		}
		ew.printf("\n  %-7s %s\n", action, s.ID)
		for _, line := range describe(s) {
			ew.printf("          %s\n", line)
		}
		if len(s.Needs) > 0 {
			var needs []string
			for _, e := range s.Needs {
				needs = append(needs, edgeText(e))
			}
			ew.printf("          after: %s\n", strings.Join(needs, ", "))
		}
	}
	ew.printf("\n%s\n", Summary(p))
	if s := BuildsSummary(p); s != "" {
		ew.printf("%s\n", s)
	}
	if s := ImagesSummary(p); s != "" {
		ew.printf("%s\n", s)
	}
	return ew.err
}

// Summary is the closing line of a plan: what it would do, by kind.
func Summary(p *plan.Plan) string {
	var ensure, check, satisfied, builds, publishes, platforms, emulated int
	for _, s := range p.Steps {
		switch {
		case s.Build != nil:
			builds++
			for _, r := range s.Build.Platforms {
				platforms++
				if r.Emulated() {
					emulated++
				}
			}
		case s.Publish != nil:
			publishes++
		case s.Action == plan.ActionEnsure:
			ensure++
		case s.Action == plan.ActionNoop:
			satisfied++
		default:
			check++
		}
	}
	host := fmt.Sprintf("%s to ensure, %d to check", Count(ensure, "host requirement"), check)
	if satisfied > 0 {
		host += fmt.Sprintf(", %d satisfied", satisfied)
	}
	return fmt.Sprintf("Plan: %s, %s (%s, %d emulated), %s.",
		host, Count(builds, "build"), Count(platforms, "platform"), emulated, Count(publishes, "publish"))
}

func observedText(m map[string]string) string {
	return joinMap(m, ", ", func(k, v string) string { return k + " " + v })
}

// HostSummary is the closing line of the host drift, Terraform style.
func HostSummary(p *plan.Plan) string {
	var add, change, replace, destructive int
	for _, st := range p.Steps {
		if st.Change == nil {
			continue
		}
		switch st.Change.Symbol {
		case "+":
			add++
		case "-/+":
			replace++
		default:
			change++
		}
		if st.Change.Destructive {
			destructive++
		}
	}
	down := ""
	if n := len(p.DownNodes()); n > 0 {
		down = fmt.Sprintf(" %d pool node(s) down: their builds are placed on the others.", n)
	}
	if add+change+replace == 0 {
		return "Host: no changes; it matches the spec." + down
	}
	s := fmt.Sprintf("Host: %d to add, %d to change, %d to replace.", add, change, replace)
	if destructive > 0 {
		s += fmt.Sprintf(" %d destructive (apply needs --allow-destructive).", destructive)
	}
	return s + down
}

// ImageLine says what an image a build pulls is pinned to, and whether
// its tag has moved: "image golang:1.26 (linux/amd64) sha256:ab12… (locked)
// ≠ sha256:cd34… (registry)".
func ImageLine(img *plan.Image) string {
	kind := "image"
	if img.Syntax {
		kind = "frontend"
	}
	line := fmt.Sprintf("%s %s (%s) ", kind, img.Familiar(), strings.Join(img.Platforms, ", "))
	switch {
	case img.Locked:
		line += short(img.Digest) + " (locked)"
		switch {
		case img.Registry == "none":
			line += " ≠ no such tag (registry)"
		case img.Drifted():
			line += " ≠ " + short(img.Registry) + " (registry)"
		}
	case img.Digest != "":
		line += "pinned by its digest"
	case img.Resolved != nil:
		line += short(img.Resolved.Digest) + " (resolved now; the build pulls this)"
	case img.Unresolved != "":
		line += "unresolved: " + img.Unresolved
	default:
		line += "unpinned"
	}
	return line
}

// statusLines say what an online plan found published for a build.
func statusLines(b *plan.Build) []string {
	st := b.Status
	if st == nil {
		return nil
	}
	switch st.State {
	case plan.UpToDate:
		if st.Digest == "" && len(st.Reasons) > 0 {
			return []string{"up to date: " + st.Reasons[0]}
		}
		return []string{"up to date: every tag holds " + short(st.Digest) + ", built from these inputs; apply sends no solve"}
	case plan.Retag:
		how := "apply moves the tags to it without a build"
		if st.From != "" {
			how = "apply copies it from " + st.From + " and moves the tags to it without a build"
		}
		return append([]string{"retag: " + short(st.Digest) + " was built from these inputs; " + how}, indent(st.Reasons)...)
	}
	return append([]string{"must run:"}, indent(st.Reasons)...)
}

func indent(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "  " + l
	}
	return out
}

// BuildsSummary is the closing line about what an online plan found
// published: builds up to date, to re-tag, to run, and not checked.
func BuildsSummary(p *plan.Plan) string {
	var upToDate, retag, run, unchecked int
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		switch {
		case st.Build.Status == nil:
			unchecked++
		case st.Build.Status.State == plan.UpToDate:
			upToDate++
		case st.Build.Status.State == plan.Retag:
			retag++
		default:
			run++
		}
	}
	if upToDate+retag+run == 0 {
		return ""
	}
	s := fmt.Sprintf("Builds: %d up to date, %d to re-tag, %d to run", upToDate, retag, run)
	if unchecked > 0 {
		s += fmt.Sprintf(", %d not checked (nothing pushed to compare with)", unchecked)
	}
	return s + "."
}

// ImagesSummary is the closing line about pins, for a plan whose builds
// pull images: how many are locked, unpinned, and drifted.
func ImagesSummary(p *plan.Plan) string {
	refs := map[string]*plan.Image{}
	for _, st := range p.Steps {
		if st.Build == nil {
			continue
		}
		for _, img := range st.Build.Images {
			if prev := refs[img.Ref]; prev == nil || img.Drifted() {
				refs[img.Ref] = img
			}
		}
	}
	if len(refs) == 0 {
		return ""
	}
	var locked, unpinned, drifted, byDigest int
	for _, img := range refs {
		switch {
		case img.Locked:
			locked++
		case img.Digest != "":
			byDigest++
		default:
			unpinned++
		}
		if img.Drifted() {
			drifted++
		}
	}
	s := fmt.Sprintf("Images: %d locked, %d unpinned", locked, unpinned)
	if byDigest > 0 {
		s += fmt.Sprintf(", %d pinned by digest", byDigest)
	}
	if drifted > 0 {
		s += fmt.Sprintf("; %d drifted from the lock (apply builds the locked bytes; bakeplan lock -upgrade moves the pins)", drifted)
	}
	return s + "."
}

// Count spells a count with its noun: 1 build, 2 builds, 3 publishes.
func Count(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	if strings.HasSuffix(noun, "sh") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func describe(s *plan.Step) []string {
	switch {
	case s.Docker != nil:
		return []string{fmt.Sprintf("Docker uses the %s image store", s.Docker.ImageStore)}
	case s.Emulator != nil:
		e := s.Emulator
		line := fmt.Sprintf("binfmt_misc entry %s registered with flags %s", e.Interpreter, e.Flags)
		if len(e.Platforms) > 0 {
			line += " (for " + strings.Join(e.Platforms, ", ") + ")"
		} else {
			line += " (declared; no planned build uses it)"
		}
		return []string{line}
	case s.Builder != nil:
		b := s.Builder
		ep := b.Endpoint
		if ep == "auto" {
			ep = "auto (BUILDKIT_HOST, else Docker)"
		}
		where := "remote"
		if b.Local {
			where = "local"
		}
		if len(b.Nodes) > 0 {
			limit := ""
			if b.MaxSolves > 0 {
				limit = fmt.Sprintf(", at most %d builds at once each", b.MaxSolves)
			}
			nodes := fmt.Sprintf("%d BuildKit nodes", len(b.Nodes))
			if len(b.Nodes) == 1 {
				nodes = "1 BuildKit node"
			}
			return []string{fmt.Sprintf("%s pool of %s, native %s%s: %s", where, nodes, strings.Join(b.Platforms, ", "), limit, strings.Join(b.Nodes, ", "))}
		}
		return []string{fmt.Sprintf("%s BuildKit at %s, native %s", where, ep, strings.Join(b.Platforms, ", "))}
	case s.Registry != nil:
		line := "registry at " + s.Registry.Host
		if s.Registry.Insecure {
			line += " (plain HTTP)"
		}
		return []string{line}
	case s.Build != nil:
		return describeBuild(s.Build)
	case s.Publish != nil:
		return []string{fmt.Sprintf("tag %s (%s) once every build succeeded", strings.Join(s.Publish.Tags, ", "), strings.Join(s.Publish.Platforms, ", "))}
	}
	return nil
}

// describeBuild is the lines the text plan shows under a build step.
func describeBuild(b *plan.Build) []string { return describeWith(b, byName) }

// describeWith is describeBuild with byName as what shows the attributes
// not shown by hand; a test gives it none, to see what the hand-written
// lines show on their own.
func describeWith(b *plan.Build, byName func(*plan.Build) []string) []string {
	out := whatLines(b)
	out = append(out, pullLines(b)...)
	out = append(out, statusLines(b)...)
	out = append(out, exportLines(b)...)
	if flags := append(runFlags(b), byName(b)...); len(flags) > 0 {
		out = append(out, strings.Join(flags, ", "))
	}
	return append(out, inputLines(b)...)
}

// whatLines say what a build builds: its builder and platforms, the
// context and Dockerfile, args, labels, annotations, named contexts and
// tags.
func whatLines(b *plan.Build) []string {
	var out []string
	var runs []string
	on := ""
	if b.Node != "" {
		on = " on " + plan.NodeName(b.Node)
	}
	for _, r := range b.Platforms {
		runs = append(runs, r.Platform+" ("+r.How()+on+")")
	}
	out = append(out, fmt.Sprintf("on builder.%s: %s", b.Builder, strings.Join(runs, ", ")))
	if b.Node != "" {
		out = append(out, fmt.Sprintf("node %s (%s): %s", plan.NodeName(b.Node), b.Node, b.Placement))
	}
	src := "context " + b.Context
	if b.DockerfileInline != "" {
		src += ", inline Dockerfile"
	} else {
		src += ", dockerfile " + b.Dockerfile
	}
	if b.Stage != "" {
		src += ", stage " + b.Stage
	}
	out = append(out, src)
	for _, kv := range []struct {
		name string
		m    map[string]string
	}{{"args", b.Args}, {"labels", b.Labels}, {"annotations", b.Annotations}} {
		if len(kv.m) > 0 {
			out = append(out, kv.name+": "+mapText(kv.m))
		}
	}
	for _, nc := range b.Contexts {
		switch {
		case nc.Target != "":
			out = append(out, fmt.Sprintf("context %s = target.%s", nc.Name, nc.Target))
		case nc.Image != "":
			out = append(out, fmt.Sprintf("context %s = image %s", nc.Name, nc.Image))
		default:
			out = append(out, fmt.Sprintf("context %s = %s", nc.Name, nc.Path))
		}
	}
	if len(b.Tags) > 0 {
		out = append(out, "tags: "+strings.Join(b.Tags, ", "))
	}
	return out
}

// pullLines are the images a build pulls and its remote ADD sources.
func pullLines(b *plan.Build) []string {
	var out []string
	for _, img := range b.Images {
		out = append(out, ImageLine(img))
	}
	for _, r := range b.Remote {
		pin := "no --checksum or commit: never up to date"
		if r.Pinned {
			pin = "pinned"
		}
		out = append(out, fmt.Sprintf("remote ADD %s (%s), %s", r.Source, r.At, pin))
	}
	return out
}

// exportLines say where the result goes and what the build is given:
// outputs, secrets, SSH, the cache, a release and attestations.
func exportLines(b *plan.Build) []string {
	var out []string
	var exports []string
	if b.Push {
		exports = append(exports, "push by digest")
	}
	for _, o := range b.Outputs {
		if o.Dest != "" {
			exports = append(exports, o.Type+" "+o.Dest)
		} else {
			exports = append(exports, o.Type)
		}
	}
	if len(exports) > 0 {
		out = append(out, "outputs: "+strings.Join(exports, ", "))
	}
	var secrets []string
	for _, s := range b.Secrets {
		if s.Env != "" {
			secrets = append(secrets, s.ID+" from env "+s.Env)
		} else {
			secrets = append(secrets, s.ID+" from file "+s.File)
		}
	}
	if len(secrets) > 0 {
		out = append(out, "secrets: "+strings.Join(secrets, ", "))
	}
	if len(b.SSH) > 0 {
		var ssh []string
		for _, s := range b.SSH {
			if len(s.Paths) > 0 {
				ssh = append(ssh, s.ID+" from "+strings.Join(s.Paths, ", "))
			} else {
				ssh = append(ssh, s.ID+" from the SSH agent")
			}
		}
		out = append(out, "ssh: "+strings.Join(ssh, "; "))
	}
	if line := cacheLine(b); line != "" {
		out = append(out, line)
	}
	if b.Release {
		out = append(out, "release: reproducible (SOURCE_DATE_EPOCH for image and history times, layer file times rewritten, local context files sent with it as their times, no cached step reused)")
	}
	if len(b.Attest) > 0 {
		var list []string
		provenance := false
		for _, a := range b.Attest {
			item := a["type"]
			var params []string
			for _, k := range sortedKeys(a) {
				if k != "type" {
					params = append(params, k+"="+a[k])
				}
			}
			if len(params) > 0 {
				item += " (" + strings.Join(params, ", ") + ")"
			}
			provenance = provenance || a["type"] == "provenance"
			list = append(list, item)
		}
		line := "attest: " + strings.Join(list, ", ")
		if provenance && b.Release {
			line += "; provenance records build times, so the index digest differs between builds (verify compares each platform's image)"
		}
		out = append(out, line)
	}
	return out
}

// runFlags are the options of how the build runs that are shown in words
// of their own.
func runFlags(b *plan.Build) []string {
	var flags []string
	if b.Call != "" {
		flags = append(flags, "call "+b.Call+": the frontend's answer, no image built or exported")
	}
	if b.NoCache {
		flags = append(flags, "no cache")
	}
	if b.Network != "" {
		flags = append(flags, "network "+b.Network)
	}
	if len(b.NoCacheFilter) > 0 {
		flags = append(flags, "no cache for stages "+strings.Join(b.NoCacheFilter, ", "))
	}
	if b.ShmSize > 0 {
		flags = append(flags, fmt.Sprintf("/dev/shm %d bytes", b.ShmSize))
	}
	if len(b.Ulimits) > 0 {
		flags = append(flags, "ulimits "+strings.Join(b.Ulimits, ", "))
	}
	if len(b.ExtraHosts) > 0 {
		flags = append(flags, "extra hosts "+joinMap(b.ExtraHosts, ", ", func(k, v string) string { return k + "=" + v }))
	}
	if len(b.Entitlements) > 0 {
		flags = append(flags, "entitlements "+strings.Join(b.Entitlements, ", "))
	}
	return flags
}

// byName shows each attribute not shown by hand by its name in the spec,
// as an option of how the build runs.
func byName(b *plan.Build) []string {
	var flags []string
	for _, f := range plan.AttrFields() {
		if !shownByHand[f.Field] && f.IsSet(b) {
			flags = append(flags, f.Name+" "+f.Text(b, ", "))
		}
	}
	return flags
}

// shownByHand are the attributes' fields the text plan shows in words of
// its own; runFlags shows any other by the attribute's name.
var shownByHand = map[string]bool{
	"Builder": true, "Context": true, "Dockerfile": true, "DockerfileInline": true, "Stage": true,
	"Platforms": true, "Args": true, "Labels": true, "Annotations": true, "Contexts": true,
	"Tags": true, "Push": true, "Outputs": true, "CacheFrom": true, "CacheTo": true,
	"Secrets": true, "SSH": true, "Release": true, "Attest": true, "Call": true, "NoCache": true,
	"Network": true, "NoCacheFilter": true, "ShmSize": true, "Ulimits": true, "ExtraHosts": true,
	"Entitlements": true,
}

// inputLines are the inputs' digests, and which paths of the context the
// build reads.
func inputLines(b *plan.Build) []string {
	var out []string
	var ins []string
	for _, in := range b.Inputs {
		name := in.Kind
		if in.Path != "" {
			name += " " + in.Path
		}
		ins = append(ins, name+" "+short(in.Digest))
	}
	out = append(out, "inputs: "+strings.Join(ins, ", "))
	for _, in := range b.Inputs {
		if in.Kind != "context" {
			continue
		}
		switch {
		case in.Reads != nil && len(in.Reads) == 0:
			out = append(out, "reads nothing of context "+in.Path+": no COPY, ADD or bind mount takes from it")
		case in.Reads != nil:
			out = append(out, "reads of context "+in.Path+" only: "+strings.Join(in.Reads, ", "))
		case in.ReadsAll != "":
			out = append(out, "reads all of context "+in.Path+": "+in.ReadsAll)
		}
	}
	return out
}

func edgeText(e plan.Edge) string {
	switch e.Kind {
	case plan.EdgeData:
		return fmt.Sprintf("%s (context %s)", e.Step, e.Name)
	default:
		return fmt.Sprintf("%s (%s)", e.Step, e.Kind)
	}
}

func mapText(m map[string]string) string {
	return joinMap(m, " ", func(k, v string) string { return fmt.Sprintf("%s=%q", k, v) })
}

// joinMap renders a map in key order, one formatted entry per key.
func joinMap(m map[string]string, sep string, entry func(k, v string) string) string {
	keys := sortedKeys(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = entry(k, m[k])
	}
	return strings.Join(parts, sep)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// short abbreviates a digest for people; the plan file keeps it whole.
func short(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) < 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

type errWriter struct {
	w   io.Writer
	err error
	raw bool // the caller escapes for its own format (dot, Mermaid)
}

// printf formats for a terminal. Every string argument is data from the
// spec or the probes, and is escaped onto one visible line; structure comes
// only from the format.
func (e *errWriter) printf(format string, args ...any) {
	if !e.raw {
		escape.TerminalArgs(args)
	}
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// cacheLine shows where a build's cache comes from and goes to, each entry
// as its type and then its other attributes; "" when it has none.
func cacheLine(b *plan.Build) string {
	entry := func(m map[string]string) string {
		parts := []string{m["type"]}
		for _, k := range sortedKeys(m) {
			if k != "type" {
				parts = append(parts, k+"="+m[k])
			}
		}
		return strings.Join(parts, " ")
	}
	var from, to []string
	for _, m := range b.CacheFrom {
		from = append(from, entry(m))
	}
	for _, m := range b.CacheTo {
		to = append(to, entry(m))
	}
	var parts []string
	if len(from) > 0 {
		parts = append(parts, "from "+strings.Join(from, ", "))
	}
	if len(to) > 0 {
		parts = append(parts, "to "+strings.Join(to, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return "cache: " + strings.Join(parts, "; ")
}

// hostSection is what a probe found of the host, builders and registries,
// a step (or a pool's node) a line, with what apply would change.
func hostSection(ew *errWriter, p *plan.Plan) {
	ew.printf("\nHost, as probed:\n")
	for _, st := range p.Steps {
		switch {
		case st.Change != nil:
			line := fmt.Sprintf("  %-3s %s: %s", st.Change.Symbol, st.ID, st.Change.Summary)
			if st.Change.Note != "" {
				line += "  (" + st.Change.Note + ")"
			}
			if st.Change.Destructive {
				line += "  # destructive"
			}
			ew.printf("%s\n", line)
		case st.Builder != nil && len(st.Builder.Nodes) > 0 && st.Observed != nil:
			// A pool, a node a line: a node that is down is drift
			// apply cannot fix; its builds go to the others.
			down := st.DownNodes()
			for _, n := range st.Builder.Nodes {
				symbol := "="
				if _, isDown := down[n]; isDown {
					symbol = "!"
				}
				state := st.Observed[plan.NodeKey(n)]
				ew.printf("  %-3s %s node %s: %s\n", symbol, st.ID, n, state)
			}
		case st.Observed != nil:
			ew.printf("  %-3s %s: %s\n", "=", st.ID, observedText(st.Observed))
		}
	}
	ew.printf("%s\n", HostSummary(p))
}
