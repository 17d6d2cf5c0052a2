// Package render formats a computed diff: text for terminals (coloured only
// on a terminal), Markdown for pull-request comments, and versioned JSON.
// It only formats; every decision was made by package diff.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/internal/escape"
)

// Summary is the closing line, Terraform style.
func Summary(d *diff.Diff) string {
	if !d.Changed() {
		return "No changes."
	}
	return fmt.Sprintf("Diff: %d to add, %d to change, %d to remove.", d.Summary.Add, d.Summary.Change, d.Summary.Remove)
}

func symbol(action string) string {
	switch action {
	case "add":
		return "+"
	case "remove":
		return "-"
	default:
		return "~"
	}
}

const (
	green  = "\x1b[32m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// Text writes the diff for a terminal; color adds ANSI colours.
func Text(w io.Writer, d *diff.Diff, color bool) error {
	ew := &errWriter{w: w}
	paint := func(action, s string) string {
		if !color {
			return s
		}
		c := yellow
		switch action {
		case "add":
			c = green
		case "remove":
			c = red
		}
		return c + s + reset
	}
	ew.printf("bakeplan diff: %s -> %s\n", escape.Terminal(d.Base.Label), escape.Terminal(d.Head.Label))
	if len(d.Variables) > 0 {
		ew.printf("\n")
		for _, v := range d.Variables {
			ew.printf("%s\n", paint(v.Action, fmt.Sprintf("%s %s%s", symbol(v.Action), escape.Terminal(v.Path), changeText(v))))
		}
	}
	for _, sc := range d.Steps {
		head := fmt.Sprintf("%s %s", symbol(sc.Action), sc.ID)
		if sc.RenamedFrom != "" {
			head += " (renamed from " + sc.RenamedFrom + ")"
		}
		ew.printf("\n%s\n", paint(sc.Action, head))
		for _, c := range sc.Changes {
			ew.printf("    %s\n", paint(c.Action, fmt.Sprintf("%s %s%s", symbol(c.Action), escape.Terminal(c.Path), changeText(c))))
		}
		for _, r := range sc.Reasons {
			ew.printf("    # rebuild: %s\n", escape.Terminal(r))
		}
	}
	ew.printf("\n%s\n", Summary(d))
	return ew.err
}

// changeText renders an attribute change after its path, each value
// escaped for a terminal (the Markdown view escapes the result again).
func changeText(c *diff.Change) string {
	t := escape.Terminal
	if len(c.Added) > 0 || len(c.Removed) > 0 {
		var parts []string
		for _, a := range c.Added {
			parts = append(parts, "+"+t(a))
		}
		for _, r := range c.Removed {
			parts = append(parts, "-"+t(r))
		}
		return ": " + strings.Join(parts, ", ")
	}
	switch c.Action {
	case "add":
		return " = " + t(c.After)
	case "remove":
		return " (was " + t(c.Before) + ")"
	}
	return ": " + t(c.Before) + " -> " + t(c.After)
}

// JSON writes the diff in its versioned JSON form.
func JSON(w io.Writer, d *diff.Diff) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// mermaid draws the changed steps and their direct neighbours: changed
// steps coloured by what happens to them, edges as in the head plan (or the
// base plan for removed steps).
func mermaid(ew *errWriter, d *diff.Diff) {
	changed := map[string]string{}
	for _, sc := range d.Steps {
		changed[sc.ID] = sc.Action
	}
	nodes := map[string]bool{}
	type edge struct{ from, to string }
	var edges []edge
	for _, sc := range d.Steps {
		nodes[sc.ID] = true
		if st := d.Step(sc.ID); st != nil {
			for _, e := range st.Needs {
				nodes[e.Step] = true
				edges = append(edges, edge{e.Step, sc.ID})
			}
		}
	}
	ids := make([]string, 0, len(nodes))
	for n := range nodes {
		ids = append(ids, n)
	}
	sort.Strings(ids)
	key := map[string]string{}
	ew.printf("flowchart LR\n")
	for i, n := range ids {
		key[n] = fmt.Sprintf("n%d", i)
		label := n
		if a, ok := changed[n]; ok {
			label = symbol(a) + " " + n
		}
		ew.printf("  %s[\"%s\"]\n", key[n], escape.Mermaid(label))
	}
	for _, e := range edges {
		ew.printf("  %s --> %s\n", key[e.from], key[e.to])
	}
	for _, n := range ids {
		switch changed[n] {
		case "add":
			ew.printf("  style %s stroke:#2da44e,stroke-width:2px\n", key[n])
		case "remove":
			ew.printf("  style %s stroke:#cf222e,stroke-width:2px,stroke-dasharray:4\n", key[n])
		case "change", "rename":
			ew.printf("  style %s stroke:#bf8700,stroke-width:2px\n", key[n])
		}
	}
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
