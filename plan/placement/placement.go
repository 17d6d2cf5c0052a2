// Package placement puts each build step of a builder with a pool of
// nodes on one of them: the same node for the same target run after run
// (a rendezvous hash of the target over the pool, so adding or removing a
// node moves only the targets that hashed to it, and so the node's cache
// is warm), unless that node is down or already has its share of the
// builds; a build that takes another build's result as a context goes
// where that result is built, so that it need not travel.
package placement

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
)

// NoNodeError is a pool with no node up.
type NoNodeError struct {
	Builder string
	Down    map[string]string // node endpoint → why it is down
	Nodes   []string          // the pool, in order
}

func (e *NoNodeError) Error() string {
	var why []string
	for _, n := range e.Nodes {
		why = append(why, n+": "+e.Down[n])
	}
	return fmt.Sprintf("builder.%s has no node up:\n  %s", e.Builder, strings.Join(why, "\n  "))
}

// Place places every build of p's pool builders on a node not in down
// (node endpoint → why it is down), recording Node and Placement on each
// build. p's steps must be in their topological order, as plans are.
func Place(p *plan.Plan, down map[string]string) error {
	nodeOf := map[string]string{} // build step → node, for affinity
	for _, st := range p.Steps {
		b := st.Builder
		if b == nil || len(b.Nodes) == 0 {
			continue
		}
		var up []string
		for _, n := range b.Nodes {
			if _, d := down[n]; !d {
				up = append(up, n)
			}
		}
		if len(up) == 0 {
			return &NoNodeError{Builder: b.Name, Down: down, Nodes: b.Nodes}
		}
		placePool(p, b, up, down, nodeOf)
	}
	noteTravel(p, nodeOf)
	return nil
}

// placePool places the builds of one pool, in the plan's order.
func placePool(p *plan.Plan, b *plan.Builder, up []string, down map[string]string, nodeOf map[string]string) {
	var builds []*plan.Step
	for _, st := range p.Steps {
		if st.Build != nil && st.Build.Builder == b.Name {
			builds = append(builds, st)
		}
	}
	share := (len(builds) + len(up) - 1) / len(up)
	load := map[string]int{}
	for _, st := range builds {
		node, why := choose(st, b.Nodes, up, down, load, share, nodeOf)
		load[node]++
		nodeOf[st.ID] = node
		st.Build.Node, st.Build.Placement = node, why
	}
}

// choose is the node for one build and why: where a context it takes is
// built, else its sticky node, else the least loaded node up. No node
// takes more than its share of the pool's builds by affinity or
// stickiness, so a base many targets build on does not draw them all.
func choose(st *plan.Step, nodes, up []string, down map[string]string, load map[string]int, share int, nodeOf map[string]string) (string, string) {
	for _, e := range st.Needs {
		if n, ok := nodeOf[e.Step]; ok && e.Kind == plan.EdgeData && slices.Contains(up, n) && load[n] < share {
			return n, fmt.Sprintf("affinity: where its context %s is built, so it need not travel", e.Name)
		}
	}
	ranked := rank(st.Build.Target, nodes)
	sticky := ranked[0]
	if why, isDown := down[sticky]; isDown {
		n := leastLoaded(ranked, up, load)
		return n, fmt.Sprintf("least loaded: its sticky node %s is down (%s)", plan.NodeName(sticky), why)
	}
	if load[sticky] >= share {
		n := leastLoaded(ranked, up, load)
		return n, fmt.Sprintf("least loaded: its sticky node %s has its share (%d builds)", plan.NodeName(sticky), share)
	}
	return sticky, "sticky: the node this target hashes to"
}

// rank orders nodes by the target's rendezvous score, highest first.
func rank(target string, nodes []string) []string {
	score := make(map[string]uint64, len(nodes))
	for _, n := range nodes {
		h := fnv.New64a()
		h.Write([]byte(target))
		h.Write([]byte{0})
		h.Write([]byte(n))
		score[n] = h.Sum64()
	}
	out := slices.Clone(nodes)
	slices.SortStableFunc(out, func(a, b string) int {
		if c := cmp.Compare(score[b], score[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}

// leastLoaded is the node up with the fewest builds, ties going to the
// target's higher ranked node.
func leastLoaded(ranked, up []string, load map[string]int) string {
	best := ""
	for _, n := range ranked {
		if !slices.Contains(up, n) {
			continue
		}
		if best == "" || load[n] < load[best] {
			best = n
		}
	}
	return best
}

// noteTravel names, on each placed build, the contexts built on another
// node: their results travel through bakeplan from there.
func noteTravel(p *plan.Plan, nodeOf map[string]string) {
	for _, st := range p.Steps {
		if st.Build == nil || st.Build.Node == "" {
			continue
		}
		for _, e := range st.Needs {
			if e.Kind != plan.EdgeData {
				continue
			}
			from, placed := nodeOf[e.Step]
			if !placed {
				if dep := p.Step(e.Step); dep != nil && dep.Build != nil {
					from = "builder." + dep.Build.Builder
				}
			}
			if from != "" && from != st.Build.Node {
				st.Build.Placement += fmt.Sprintf("; context %s travels from %s", e.Name, plan.NodeName(from))
			}
		}
	}
}
