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
	edges := dependencyEdges(all)
	var diags hcl.Diagnostics
	for _, scc := range stronglyConnected(all, edges) {
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
		start := scc[0]
		hops := shortestCycle(scc, edges)
		path := []string{"target." + start.in.name}
		for _, h := range hops {
			path = append(path, fmt.Sprintf("(%s) target.%s", h.e.how, h.e.to.in.name))
		}
		var names []string
		for _, r := range scc {
			names = append(names, "target."+r.in.name)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Dependency cycle",
			Detail: fmt.Sprintf("%s depend on each other: %s. A build cannot wait for itself; break the cycle by removing one of these contexts or depends_on entries.",
				strings.Join(names, ", "), strings.Join(path, " -> ")),
			Subject: hops[0].e.rng.Ptr(),
		})
	}
	return diags
}

// waitEdge is one target waiting for another: through depends_on, or a
// context fed by its build.
type waitEdge struct {
	to  *resolved
	rng hcl.Range
	how string
}

// dependencyEdges are the edges between the targets.
func dependencyEdges(all []*resolved) map[*resolved][]waitEdge {
	byIn := map[*instance]*resolved{}
	for _, r := range all {
		byIn[r.in] = r
	}
	edges := map[*resolved][]waitEdge{}
	for _, r := range all {
		for _, d := range r.dependsOn {
			if to := byIn[d.to]; to != nil {
				edges[r] = append(edges[r], waitEdge{to, d.rng, "depends_on"})
			}
		}
		for _, x := range r.contexts {
			if to := byIn[x.to]; x.to != nil && to != nil {
				edges[r] = append(edges[r], waitEdge{to, x.rng, "contexts"})
			}
		}
	}
	return edges
}

// stronglyConnected are the strongly connected components of the graph
// (Tarjan's algorithm), each a set of targets that all reach each other.
func stronglyConnected(all []*resolved, edges map[*resolved][]waitEdge) [][]*resolved {
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
	return sccs
}

// hop is one edge of a path, and where it starts.
type hop struct {
	from *resolved
	e    waitEdge
}

// shortestCycle is the shortest cycle through the component's first
// member, found breadth first inside the component.
func shortestCycle(scc []*resolved, edges map[*resolved][]waitEdge) []hop {
	in := map[*resolved]bool{}
	for _, r := range scc {
		in[r] = true
	}
	start := scc[0]
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
	return hops
}
