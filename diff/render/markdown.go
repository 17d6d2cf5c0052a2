package render

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/distribution/reference"
)

// Marker starts every comment bakeplan writes, hidden when rendered, so
// that CI finds its own comment to update instead of adding another.
const Marker = "<!-- bakeplan-diff -->"

// DefaultMaxBytes is GitHub's limit on a comment (65,536 characters; a
// byte bound is never looser).
const DefaultMaxBytes = 65536

// MarkdownOptions shape a pull-request comment.
type MarkdownOptions struct {
	// MaxBytes bounds the comment; 0 means no bound.
	MaxBytes int
}

// Markdown writes a pull-request comment: the hidden marker, the summary
// with counts per kind of step, per builder and per registry; then each
// change that several targets share, once, with the targets folded away;
// then, per target, only the changes no other target has; the changed part
// of the graph; and the full text diff folded away. Under opts.MaxBytes it
// leaves out, in this order, the full diff, the graph, target lists and
// the per-target exceptions, and says what it left out.
func Markdown(w io.Writer, d *diff.Diff, opts MarkdownOptions) error {
	m := newMarkdown(d)
	levels := m.levels()
	out := ""
	for _, l := range levels {
		out = m.render(l)
		if opts.MaxBytes <= 0 || len(out) <= opts.MaxBytes {
			break
		}
	}
	if opts.MaxBytes > 0 && len(out) > opts.MaxBytes {
		out = m.render(cut{minimal: true})
	}
	_, err := io.WriteString(w, out)
	return err
}

// namesPerBlock is how many target names one <details> lists.
const namesPerBlock = 500

// maxGraph is the most changed steps the graph is drawn for.
const maxGraph = 30

// cut is how much a rendering leaves out.
type cut struct {
	noFullDiff, noGraph bool
	exceptions          int // targets whose own changes are shown; -1: all
	names               int // target names listed per shared change; -1: all
	minimal             bool
}

func (m *markdown) levels() []cut {
	all := cut{exceptions: -1, names: -1}
	out := []cut{all}
	all.noFullDiff = true
	out = append(out, all)
	all.noGraph = true
	out = append(out, all)
	for _, names := range []int{1000, 300, 100, 30} {
		all.names = names
		out = append(out, all)
	}
	for n := len(m.targets); n >= 0; n = n*3/4 - 1 {
		c := all
		c.exceptions = n
		out = append(out, c)
	}
	c := all
	c.exceptions, c.names = 0, 0
	return append(out, c)
}

// group is one change, as text, and the targets that have it.
type group struct {
	key     string // kind, symbol and change
	kind    string
	symbol  string
	text    string // as the targets share it (repositories left out)
	full    string // as the first target has it
	targets []string
}

type markdown struct {
	d       *diff.Diff
	shared  []*group            // changes of two or more targets
	own     map[string][]string // target -> rows of its own changes
	targets []string            // targets with changes of their own, sorted
}

func newMarkdown(d *diff.Diff) *markdown {
	m := &markdown{d: d, own: map[string][]string{}}
	byKey := map[string]*group{}
	var order []*group
	add := func(target, kind, sym, text, full string) {
		key := kind + "\x00" + sym + "\x00" + text
		g := byKey[key]
		if g == nil {
			g = &group{key: key, kind: kind, symbol: sym, text: text, full: full}
			byKey[key] = g
			order = append(order, g)
		}
		if n := len(g.targets); n == 0 || g.targets[n-1] != target {
			g.targets = append(g.targets, target)
		}
	}
	for _, sc := range d.Steps {
		target := sc.Target
		if target == "" {
			target = "(host) " + sc.ID
		}
		switch {
		case sc.Action == "add" || sc.Action == "remove":
			text := sc.Kind + " step " + map[string]string{"add": "added", "remove": "removed"}[sc.Action]
			add(target, sc.Kind, symbol(sc.Action), text, text)
			continue
		case sc.Action == "rename":
			text := "renamed from " + escape.MarkdownCode(sc.RenamedFrom)
			add(target, sc.Kind, "~", text, text)
		}
		for _, c := range sc.Changes {
			path := escape.MarkdownCode(c.Path) + ": "
			add(target, sc.Kind, symbol(c.Action), path+cell(shared(c)), path+cell(strings.TrimPrefix(changeText(c), ": ")))
		}
		for _, r := range sc.Reasons {
			add(target, sc.Kind, "~", "rebuild: "+cell(r), "rebuild: "+cell(r))
		}
	}
	for _, g := range order {
		if len(g.targets) > 1 {
			m.shared = append(m.shared, g)
			continue
		}
		t := g.targets[0]
		if _, ok := m.own[t]; !ok {
			m.targets = append(m.targets, t)
		}
		m.own[t] = append(m.own[t], fmt.Sprintf("| %s | %s | %s |\n", g.symbol, g.kind, g.full))
	}
	sort.SliceStable(m.shared, func(i, j int) bool { return len(m.shared[i].targets) > len(m.shared[j].targets) })
	sort.Strings(m.targets)
	return m
}

// shared is a change as the targets that share it read it: image
// references in a list lose their repository (each target pushes its own),
// so "…:v1 → …:v2" is one change across all of them.
func shared(c *diff.Change) string {
	if len(c.Added) == 0 && len(c.Removed) == 0 {
		return strings.TrimPrefix(changeText(c), ": ")
	}
	strip := func(list []string) []string {
		out := make([]string, len(list))
		for i, s := range list {
			out[i] = s
			if n, err := reference.ParseNormalizedNamed(s); err == nil {
				if t, ok := n.(reference.Tagged); ok {
					out[i] = "…:" + t.Tag()
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	var parts []string
	if len(c.Added) > 0 {
		parts = append(parts, "+"+strings.Join(strip(c.Added), ", +"))
	}
	if len(c.Removed) > 0 {
		parts = append(parts, "-"+strings.Join(strip(c.Removed), ", -"))
	}
	return strings.Join(parts, ", ")
}

func (m *markdown) render(c cut) string {
	head, body, left := m.blocks(c)
	out := head + strings.Join(body, "")
	if len(left) > 0 {
		out += fmt.Sprintf("\n_Cut to fit the comment's size limit; left out: %s. The full diff is in the job's artifact or `bakeplan diff` output._\n", strings.Join(left, "; "))
	}
	return out
}

// blocks is the comment as its heading (marker, labels, summary, counts)
// and the blocks that follow, each whole Markdown on its own (a table, a
// <details>, a fenced block), with what c left out.
func (m *markdown) blocks(c cut) (head string, body []string, left []string) {
	var b strings.Builder
	d := m.d
	fmt.Fprintf(&b, "%s\n### bakeplan diff\n\n", Marker)
	fmt.Fprintf(&b, "%s → %s\n\n", escape.MarkdownCode(d.Base.Label), escape.MarkdownCode(d.Head.Label))
	fmt.Fprintf(&b, "**%s**\n", Summary(d))
	if !d.Changed() {
		return b.String(), nil, nil
	}
	m.counts(&b)
	if c.minimal {
		fmt.Fprintf(&b, "\nThe changes are too many to list here (%d changes shared by several targets, %d targets with changes of their own); the full diff is in the job's artifact or `bakeplan diff` output.\n", len(m.shared), len(m.targets))
		return b.String(), nil, nil
	}
	head = b.String()
	block := func(format string, args ...any) { body = append(body, fmt.Sprintf(format, args...)) }
	if len(d.Variables) > 0 {
		var v strings.Builder
		v.WriteString("\n#### Variables\n\n| | variable | before | after |\n|---|---|---|---|\n")
		for _, c := range d.Variables {
			fmt.Fprintf(&v, "| %s | %s | %s | %s |\n", symbol(c.Action), escape.MarkdownCode(c.Path), cell(c.Before), cell(c.After))
		}
		body = append(body, v.String())
	}
	if len(m.shared) > 0 {
		b, l := m.sharedBlocks(c)
		body, left = append(body, b...), append(left, l...)
	}
	if len(m.targets) > 0 {
		block("\n#### Changes of one target\n")
		shown := m.targets
		if c.exceptions >= 0 && len(shown) > c.exceptions {
			left = append(left, fmt.Sprintf("the changes of %d of %d targets", len(shown)-c.exceptions, len(shown)))
			shown = shown[:c.exceptions]
		}
		for _, t := range shown {
			block("\n##### %s\n\n| | step | change |\n|---|---|---|\n%s", escape.MarkdownText(t), strings.Join(m.own[t], ""))
		}
	}
	switch {
	case len(d.Steps) > maxGraph:
		// A graph of hundreds of changed steps is not read; the lists are.
	case c.noGraph:
		left = append(left, "the graph")
	default:
		var g strings.Builder
		g.WriteString("\n#### Changed part of the graph\n\n```mermaid\n")
		mermaid(&errWriter{w: &g}, d)
		g.WriteString("```\n")
		body = append(body, g.String())
	}
	if c.noFullDiff {
		left = append(left, "the full diff")
	} else {
		// The text view escapes every value onto one line; the fence is
		// longer than any backtick run in it, so nothing in a value can
		// close it.
		var sb strings.Builder
		_ = Text(&sb, d, false)
		fence := escape.Fence(sb.String())
		block("\n<details><summary>Full diff</summary>\n\n%sdiff\n%s%s\n\n</details>\n", fence, sb.String(), fence)
	}
	return head, body, left
}

// sharedBlocks are the changes several targets share, each with the
// names of its targets in blocks of namesPerBlock (so that a split comment
// can carry a long list over several parts), and what the cut left out.
func (m *markdown) sharedBlocks(c cut) (body []string, left []string) {
	block := func(format string, args ...any) { body = append(body, fmt.Sprintf(format, args...)) }
	block("\n#### Changes several targets share\n")
	cutNames := 0
	for _, g := range m.shared {
		text := fmt.Sprintf("\n**%d targets**: %s %s %s\n", len(g.targets), g.symbol, g.kind, g.text)
		names := g.targets
		if c.names >= 0 && len(names) > c.names {
			cutNames++
			names = names[:c.names]
		}
		for from := 0; from < len(names); from += namesPerBlock {
			chunk := names[from:min(from+namesPerBlock, len(names))]
			quoted := make([]string, len(chunk))
			for i, n := range chunk {
				quoted[i] = escape.MarkdownCode(n)
			}
			summary := fmt.Sprintf("the %d targets", len(g.targets))
			if len(names) > namesPerBlock {
				summary = fmt.Sprintf("targets %d to %d of %d", from+1, from+len(chunk), len(g.targets))
			}
			more := ""
			if from+len(chunk) == len(names) && len(names) < len(g.targets) {
				more = fmt.Sprintf(" and %d more", len(g.targets)-len(names))
			}
			body = append(body, text+fmt.Sprintf("\n<details><summary>%s</summary>\n\n%s%s\n\n</details>\n", summary, strings.Join(quoted, ", "), more))
			text = ""
		}
		if text != "" {
			body = append(body, text)
		}
	}
	if cutNames > 0 {
		left = append(left, fmt.Sprintf("the names of some targets sharing %d of the changes", cutNames))
	}
	return body, left
}

// MarkdownParts is the comment split into parts of at most maxBytes each,
// at block boundaries (a target's table, a shared change, the graph), in
// order, nothing left out but a block too large for any part (the full
// diff of a large change), which the part says. The first part carries
// Marker; part N carries a marker of its own ("<!-- bakeplan-diff part N
// -->"), so that CI can keep one comment per part.
func MarkdownParts(d *diff.Diff, maxBytes int) []string {
	m := newMarkdown(d)
	head, body, _ := m.blocks(cut{exceptions: -1, names: -1})
	budget := maxBytes - 64 // for the "Part N of M" line
	partHead := func(n int) string {
		return fmt.Sprintf("<!-- bakeplan-diff part %d -->\n### bakeplan diff (continued)\n", n)
	}
	parts := []string{}
	cur, fresh := head, false // fresh: cur holds only a part's heading
	var dropped []string
	for _, b := range body {
		if len(cur)+len(b) > budget && !fresh {
			parts = append(parts, cur)
			cur, fresh = partHead(len(parts)+1), true
		}
		if len(cur)+len(b) > budget {
			first, _, _ := strings.Cut(strings.TrimSpace(b), "\n")
			dropped = append(dropped, first)
			continue
		}
		cur, fresh = cur+b, false
	}
	if len(dropped) > 0 {
		note := fmt.Sprintf("\n_Left out, too large for a part of %d bytes: %s. The full diff is in the job's artifact or `bakeplan diff` output._\n", maxBytes, cell(strings.Join(dropped, "; ")))
		if len(cur)+len(note) > budget {
			parts = append(parts, cur)
			cur = partHead(len(parts) + 1)
		}
		cur += note
	}
	parts = append(parts, cur)
	for i := range parts {
		parts[i] += fmt.Sprintf("\n_Part %d of %d._\n", i+1, len(parts))
	}
	return parts
}

// counts writes how many steps change, by kind and action, and how many
// builds each builder runs and how many publishes go to each registry.
func (m *markdown) counts(b *strings.Builder) {
	type row struct{ add, change, remove int }
	kinds := map[string]*row{}
	builders, registries := map[string]int{}, map[string]int{}
	for _, sc := range m.d.Steps {
		r := kinds[sc.Kind]
		if r == nil {
			r = &row{}
			kinds[sc.Kind] = r
		}
		switch sc.Action {
		case "add":
			r.add++
		case "remove":
			r.remove++
		default:
			r.change++
		}
		st := m.d.Step(sc.ID)
		if st == nil {
			continue
		}
		if st.Build != nil && st.Build.Builder != "" {
			builders[st.Build.Builder]++
		}
		if st.Publish != nil {
			hosts := map[string]bool{}
			for _, t := range st.Publish.Tags {
				if n, err := reference.ParseNormalizedNamed(t); err == nil {
					hosts[reference.Domain(n)] = true
				}
			}
			for h := range hosts {
				registries[h]++
			}
		}
	}
	b.WriteString("\n| steps | + add | ~ change | - remove |\n|---|---|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		r := kinds[k]
		fmt.Fprintf(b, "| %s | %d | %d | %d |\n", k, r.add, r.change, r.remove)
	}
	if len(builders) > 0 || len(registries) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(builders)) {
			parts = append(parts, fmt.Sprintf("builder %s: %d", escape.MarkdownCode(k), builders[k]))
		}
		for _, k := range slices.Sorted(maps.Keys(registries)) {
			parts = append(parts, fmt.Sprintf("registry %s: %d", escape.MarkdownCode(k), registries[k]))
		}
		fmt.Fprintf(b, "\nChanged steps per builder and registry: %s.\n", strings.Join(parts, ", "))
	}
}

// cell escapes a value for a Markdown table: one line, no markup, no HTML.
func cell(s string) string { return escape.MarkdownText(s) }
