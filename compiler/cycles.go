package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// checkCycles reports every dependency cycle between targets, through
// contexts and depends_on, naming each target on it. It uses Tarjan's
// strongly connected components, so one diagnostic covers one tangle however
// many edges it has.
func (c *compilation) checkCycles(all []*resolved) hcl.Diagnostics {
	type edge struct {
		to  *resolved
		rng hcl.Range
		how string
	}
	byIn := map[*instance]*resolved{}
	for _, r := range all {
		byIn[r.in] = r
	}
	edges := map[*resolved][]edge{}
	for _, r := range all {
		for _, d := range r.dependsOn {
			if to := byIn[d.to]; to != nil {
				edges[r] = append(edges[r], edge{to, d.rng, "depends_on"})
			}
		}
		for _, x := range r.contexts {
			if to := byIn[x.to]; x.to != nil && to != nil {
				edges[r] = append(edges[r], edge{to, x.rng, "contexts"})
			}
		}
	}

	index := map[*resolved]int{}
	low := map[*resolved]int{}
	onStack := map[*resolved]bool{}
	var stack []*resolved
	var sccs [][]*resolved
	next := 0
	var strong func(v *resolved)
	strong = func(v *resolved) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, e := range edges[v] {
			if _, seen := index[e.to]; !seen {
				strong(e.to)
				low[v] = min(low[v], low[e.to])
			} else if onStack[e.to] {
				low[v] = min(low[v], index[e.to])
			}
		}
		if low[v] == index[v] {
			var scc []*resolved
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			sccs = append(sccs, scc)
		}
	}
	for _, r := range all {
		if _, seen := index[r]; !seen {
			strong(r)
		}
	}

	var diags hcl.Diagnostics
	for _, scc := range sccs {
		in := map[*resolved]bool{}
		for _, r := range scc {
			in[r] = true
		}
		selfLoop := false
		for _, e := range edges[scc[0]] {
			if e.to == scc[0] {
				selfLoop = true
			}
		}
		if len(scc) == 1 && !selfLoop {
			continue
		}
		sort.Slice(scc, func(i, j int) bool { return scc[i].in.name < scc[j].in.name })
		// The shortest cycle through the first member, found breadth first
		// inside the component.
		start := scc[0]
		type hop struct {
			from *resolved
			e    edge
		}
		parent := map[*resolved]hop{}
		queue := []*resolved{start}
		var last *hop
		for len(queue) > 0 && last == nil {
			cur := queue[0]
			queue = queue[1:]
			for _, e := range edges[cur] {
				if !in[e.to] {
					continue
				}
				if e.to == start {
					last = &hop{cur, e}
					break
				}
				if _, seen := parent[e.to]; !seen {
					parent[e.to] = hop{cur, e}
					queue = append(queue, e.to)
				}
			}
		}
		var hops []hop
		for h := last; h != nil; {
			hops = append([]hop{*h}, hops...)
			if h.from == start {
				break
			}
			p := parent[h.from]
			h = &p
		}
		path := []string{"target." + start.in.name}
		for _, h := range hops {
			path = append(path, fmt.Sprintf("(%s) target.%s", h.e.how, h.e.to.in.name))
		}
		first := hops[0].e
		var names []string
		for _, r := range scc {
			names = append(names, "target."+r.in.name)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Dependency cycle",
			Detail: fmt.Sprintf("%s depend on each other: %s. A build cannot wait for itself; break the cycle by removing one of these contexts or depends_on entries.",
				strings.Join(names, ", "), strings.Join(path, " -> ")),
			Subject: first.rng.Ptr(),
		})
	}
	return diags
}
