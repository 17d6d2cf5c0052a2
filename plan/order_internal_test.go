package plan

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestOrderMatchesOrderByID proves Order, which works by index, by
// difference with the string-keyed version it replaced (kept below as the
// reference): the same order, or the same cycle error, on generated step
// graphs (fixed seed) with every rank of id, needs of unknown steps,
// repeated needs and cycles.
func TestOrderMatchesOrderByID(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 9))
	prefixes := []string{"host.", "builder.", "registry.", "build.", "publish.", "other."}
	cycles := 0
	for c := range 2000 {
		n := 1 + rng.IntN(40)
		steps := make([]*Step, n)
		for i := range steps {
			steps[i] = &Step{ID: fmt.Sprintf("%s%c%d", prefixes[rng.IntN(len(prefixes))], 'a'+rune(rng.IntN(26)), i)}
		}
		for i, s := range steps {
			for range rng.IntN(4) {
				// Mostly earlier steps (a DAG); now and then a later one
				// (maybe a cycle) or one that is not there.
				switch j := rng.IntN(n); {
				case rng.IntN(25) == 0:
					s.Needs = append(s.Needs, Edge{Step: "missing." + fmt.Sprint(j)})
				case j < i || rng.IntN(30) == 0:
					s.Needs = append(s.Needs, Edge{Step: steps[j].ID})
				}
			}
		}
		rng.Shuffle(n, func(i, j int) { steps[i], steps[j] = steps[j], steps[i] })
		got, err := Order(steps)
		want, wantErr := orderByID(steps)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: got %v (%v), want %v (%v)", c, ids(got), err, ids(want), wantErr)
		}
		if err != nil {
			cycles++
		}
	}
	if cycles < 50 || cycles > 1900 {
		t.Errorf("%d of the graphs had a cycle", cycles)
	}
}

func ids(steps []*Step) string {
	var out []string
	for _, s := range steps {
		out = append(out, s.ID)
	}
	return strings.Join(out, " ")
}

func orderByID(steps []*Step) ([]*Step, error) {
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
	ready := &idHeapRef{}
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

func lessRef(a, b string) bool {
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	return a < b
}

type idHeapRef []string

func (h idHeapRef) Len() int           { return len(h) }
func (h idHeapRef) Less(i, j int) bool { return lessRef(h[i], h[j]) }
func (h idHeapRef) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeapRef) Push(x any)        { *h = append(*h, x.(string)) }
func (h *idHeapRef) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
