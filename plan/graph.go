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
// the same on every run. Step ids are unique (Validate checks them first);
// a large plan has thousands of steps, so they are handled by index.
func Order(steps []*Step) ([]*Step, error) {
	at := make(map[string]int, len(steps))
	for i, s := range steps {
		at[s.ID] = i
	}
	indeg := make([]int, len(steps))
	users := make([][]int, len(steps))
	for i, s := range steps {
		for _, e := range s.Needs {
			if j, ok := at[e.Step]; ok {
				indeg[i]++
				users[j] = append(users[j], i)
			}
		}
	}
	ready := &readySteps{steps: steps, rank: make([]int, len(steps))}
	for i, s := range steps {
		ready.rank[i] = rank(s.ID)
		if indeg[i] == 0 {
			ready.idx = append(ready.idx, i)
		}
	}
	heap.Init(ready)
	out := make([]*Step, 0, len(steps))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		out = append(out, steps[i])
		for _, u := range users[i] {
			indeg[u]--
			if indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(out) != len(steps) {
		var stuck []string
		for i, s := range steps {
			if indeg[i] > 0 {
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

// readySteps holds the steps whose needs are all placed, by index, least
// (rank, then id) first.
type readySteps struct {
	steps []*Step
	rank  []int
	idx   []int
}

func (h *readySteps) Len() int { return len(h.idx) }
func (h *readySteps) Less(a, b int) bool {
	i, j := h.idx[a], h.idx[b]
	if h.rank[i] != h.rank[j] {
		return h.rank[i] < h.rank[j]
	}
	return h.steps[i].ID < h.steps[j].ID
}
func (h *readySteps) Swap(a, b int) { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *readySteps) Push(x any)    { h.idx = append(h.idx, x.(int)) }
func (h *readySteps) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}
