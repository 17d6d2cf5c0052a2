package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/plan"
)

// Dot writes the step graph in Graphviz dot. Arrows point from a step to the
// steps that wait for it: data edges solid, order edges dashed, host edges
// dotted.
func Dot(w io.Writer, p *plan.Plan) error {
	ew := &errWriter{w: w, raw: true}
	ew.printf("digraph bakeplan {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n")
	for _, s := range p.Steps {
		shape := "box"
		if s.Build == nil && s.Publish == nil {
			shape = "ellipse"
		}
		ew.printf("  %q [label=%q, shape=%s];\n", s.ID, strings.Join(nodeLines(s), "\n"), shape)
	}
	for _, s := range p.Steps {
		for _, e := range s.Needs {
			attrs := edgeStyle(e)
			ew.printf("  %q -> %q%s;\n", e.Step, s.ID, attrs)
		}
	}
	ew.printf("}\n")
	return ew.err
}

func edgeStyle(e plan.Edge) string {
	switch e.Kind {
	case plan.EdgeData:
		return fmt.Sprintf(" [label=%q]", "context "+e.Name)
	case plan.EdgeOrder:
		return " [style=dashed, label=\"order\"]"
	case plan.EdgeHost:
		return " [style=dotted]"
	}
	return ""
}

// Mermaid writes the step graph as a Mermaid flowchart, for Markdown.
func Mermaid(w io.Writer, p *plan.Plan) error {
	ew := &errWriter{w: w, raw: true}
	ids := map[string]string{}
	for i, s := range p.Steps {
		ids[s.ID] = fmt.Sprintf("s%d", i)
	}
	ew.printf("flowchart LR\n")
	for _, s := range p.Steps {
		lines := nodeLines(s)
		for i, l := range lines {
			lines[i] = escape.Mermaid(l)
		}
		label := strings.Join(lines, "<br/>")
		if s.Build == nil && s.Publish == nil {
			ew.printf("  %s([\"%s\"])\n", ids[s.ID], label)
		} else {
			ew.printf("  %s[\"%s\"]\n", ids[s.ID], label)
		}
	}
	for _, s := range p.Steps {
		for _, e := range s.Needs {
			switch e.Kind {
			case plan.EdgeData:
				ew.printf("  %s -->|\"context %s\"| %s\n", ids[e.Step], escape.Mermaid(e.Name), ids[s.ID])
			case plan.EdgeOrder:
				ew.printf("  %s -. order .-> %s\n", ids[e.Step], ids[s.ID])
			case plan.EdgeHost:
				ew.printf("  %s -.-> %s\n", ids[e.Step], ids[s.ID])
			default:
				ew.printf("  %s --> %s\n", ids[e.Step], ids[s.ID])
			}
		}
	}
	return ew.err
}

func nodeLines(s *plan.Step) []string {
	lines := []string{s.ID}
	if s.Build != nil {
		var ps []string
		for _, r := range s.Build.Platforms {
			switch {
			case r.Native:
				ps = append(ps, r.Platform)
			case r.CrossCompiled:
				ps = append(ps, r.Platform+" (cross-compiled)")
			case len(r.Stages) > 0:
				ps = append(ps, r.Platform+" (emulated: "+strings.Join(r.Stages, ", ")+")")
			default:
				ps = append(ps, r.Platform+" (emulated)")
			}
		}
		lines = append(lines, strings.Join(ps, ", "))
	}
	if s.Publish != nil {
		lines = append(lines, strings.Join(s.Publish.Tags, ", "))
	}
	return lines
}
