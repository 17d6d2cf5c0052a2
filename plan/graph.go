package plan

import (
	"container/heap"
	"fmt"
	"sort"
	"strings"
)

// Validate checks that step ids are unique, every edge names a step, each
// step carries exactly one kind, and the steps form a DAG.
func (p *Plan) Validate() error {
	ids := make(map[string]*Step, len(p.Steps))
	for _, s := range p.Steps {
		if _, dup := ids[s.ID]; dup {
			return fmt.Errorf("plan: duplicate step %q", s.ID)
		}
		ids[s.ID] = s
		if n := s.kinds(); n != 1 {
			return fmt.Errorf("plan: step %q has %d kinds, want 1", s.ID, n)
		}
	}
	for _, s := range p.Steps {
		for _, e := range s.Needs {
			if _, ok := ids[e.Step]; !ok {
				return fmt.Errorf("plan: step %q needs unknown step %q", s.ID, e.Step)
			}
		}
	}
	if _, err := Order(p.Steps); err != nil {
		return err
	}
	return nil
}

func (s *Step) kinds() int {
	n := 0
	for _, set := range []bool{s.Docker != nil, s.Emulator != nil, s.Builder != nil, s.Registry != nil, s.Build != nil, s.Publish != nil} {
		if set {
			n++
		}
	}
	return n
}

// Order returns the steps in a topological order: each step after every step
// it needs, ties broken by host steps first and then by id, so the order is
// the same on every run.
func Order(steps []*Step) ([]*Step, error) {
	byID := make(map[string]*Step, len(steps))
	indeg := make(map[string]int, len(steps))
	users := make(map[string][]string, len(steps))
	for _, s := range steps {
		byID[s.ID] = s
	}
	for _, s := range steps {
		for _, e := range s.Needs {
			if _, ok := byID[e.Step]; !ok {
				continue
			}
			indeg[s.ID]++
			users[e.Step] = append(users[e.Step], s.ID)
		}
	}
	ready := &idHeap{}
	for _, s := range steps {
		if indeg[s.ID] == 0 {
			heap.Push(ready, s.ID)
		}
	}
	out := make([]*Step, 0, len(steps))
	for ready.Len() > 0 {
		id := heap.Pop(ready).(string)
		out = append(out, byID[id])
		for _, u := range users[id] {
			indeg[u]--
			if indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(out) != len(steps) {
		var stuck []string
		for _, s := range steps {
			if indeg[s.ID] > 0 {
				stuck = append(stuck, s.ID)
			}
		}
		sort.Strings(stuck)
		return nil, fmt.Errorf("plan: steps form a cycle: %s", strings.Join(stuck, ", "))
	}
	return out, nil
}

// rank puts host requirements before builds and builds before publishes.
func rank(id string) int {
	switch {
	case strings.HasPrefix(id, "host."):
		return 0
	case strings.HasPrefix(id, "builder."), strings.HasPrefix(id, "registry."):
		return 1
	case strings.HasPrefix(id, "build."):
		return 2
	default:
		return 3
	}
}

func less(a, b string) bool {
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	return a < b
}

type idHeap []string

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return less(h[i], h[j]) }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
