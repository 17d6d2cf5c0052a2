package placement

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

// pool is a plan of n builds on one pool builder; every tenth build takes
// the one before it as a context.
func pool(nodes []string, n int) *plan.Plan {
	p := &plan.Plan{Steps: []*plan.Step{{ID: "builder.b", Builder: &plan.Builder{Name: "b", Nodes: nodes}}}}
	for i := range n {
		st := &plan.Step{ID: fmt.Sprintf("build.t%03d", i), Action: plan.ActionBuild, Build: &plan.Build{Target: fmt.Sprintf("t%03d", i), Builder: "b"}}
		if i%10 == 9 {
			st.Needs = []plan.Edge{{Step: fmt.Sprintf("build.t%03d", i-1), Kind: plan.EdgeData, Name: "prev"}}
		}
		p.Steps = append(p.Steps, st)
	}
	p.Index()
	return p
}

func nodesOf(p *plan.Plan) map[string]string {
	out := map[string]string{}
	for _, st := range p.Steps {
		if st.Build != nil {
			out[st.ID] = st.Build.Node
		}
	}
	return out
}

// TestInvariants: over generated pools (fixed seed), every build lands on
// a node that is up, no node takes more than its share, the placement is
// the same every time, and each reason names why.
func TestInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for c := range 300 {
		k := 1 + rng.IntN(6)
		var nodes []string
		for i := range k {
			nodes = append(nodes, fmt.Sprintf("tcp://n%d-%d:1234", c, i))
		}
		down := map[string]string{}
		for _, n := range nodes[1:] {
			if rng.IntN(4) == 0 {
				down[n] = "connection refused"
			}
		}
		builds := 1 + rng.IntN(60)
		p := pool(nodes, builds)
		if err := Place(p, down); err != nil {
			t.Fatalf("case %d: %v", c, err)
		}
		up := k - len(down)
		share := (builds + up - 1) / up
		load := map[string]int{}
		for id, n := range nodesOf(p) {
			if _, d := down[n]; d || n == "" {
				t.Fatalf("case %d: %s on %q, which is down or none", c, id, n)
			}
			load[n]++
		}
		for n, l := range load {
			if l > share {
				t.Errorf("case %d: %s has %d builds, over its share of %d", c, n, l, share)
			}
		}
		again := pool(nodes, builds)
		_ = Place(again, down)
		if fmt.Sprint(nodesOf(again)) != fmt.Sprint(nodesOf(p)) {
			t.Errorf("case %d: placing the same plan twice differed", c)
		}
		for _, st := range p.Steps {
			if b := st.Build; b != nil && !strings.HasPrefix(b.Placement, "sticky") && !strings.HasPrefix(b.Placement, "affinity") && !strings.HasPrefix(b.Placement, "least loaded") {
				t.Errorf("case %d: %s placed without a reason: %q", c, st.ID, b.Placement)
			}
		}
	}
}

// TestSticky: a node added to a pool takes builds only from the others,
// about its share of them; a target's node does not otherwise change.
func TestSticky(t *testing.T) {
	three := []string{"tcp://a:1", "tcp://b:1", "tcp://c:1"}
	before := pool(three, 300)
	after := pool(append(three, "tcp://d:1"), 300)
	_ = Place(before, nil)
	_ = Place(after, nil)
	moved, toNew := 0, 0
	b, a := nodesOf(before), nodesOf(after)
	for id, n := range b {
		if a[id] != n {
			moved++
			if a[id] == "tcp://d:1" {
				toNew++
			}
		}
	}
	// A fourth node should take about a quarter; a modulo hash would move
	// three quarters.
	if moved > 300/2 {
		t.Errorf("adding a node moved %d of 300 builds", moved)
	}
	if toNew < 300/8 {
		t.Errorf("the new node took only %d of 300 builds", toNew)
	}
}

// TestDown: a pool with no node up is an error naming each node and why.
func TestDown(t *testing.T) {
	p := pool([]string{"tcp://a:1", "tcp://b:1"}, 3)
	err := Place(p, map[string]string{"tcp://a:1": "connection refused", "tcp://b:1": "timed out"})
	var nn *NoNodeError
	if !errors.As(err, &nn) || !strings.Contains(err.Error(), "tcp://a:1: connection refused") || !strings.Contains(err.Error(), "tcp://b:1: timed out") {
		t.Fatalf("got %v", err)
	}
	p = pool([]string{"tcp://a:1", "tcp://b:1"}, 4)
	if err := Place(p, map[string]string{"tcp://a:1": "connection refused"}); err != nil {
		t.Fatal(err)
	}
	for id, n := range nodesOf(p) {
		if n != "tcp://b:1" {
			t.Errorf("%s on %s, which is down", id, n)
		}
	}
}

// TestAffinityAndTravel: a build goes where its context is built while
// that node has room, and a context built elsewhere is named as travelling.
func TestAffinityAndTravel(t *testing.T) {
	p := pool([]string{"tcp://a:1", "tcp://b:1"}, 10)
	_ = Place(p, nil)
	last := p.Step("build.t009").Build
	prev := p.Step("build.t008").Build
	switch {
	case last.Node == prev.Node && !strings.HasPrefix(last.Placement, "affinity"):
		t.Errorf("t009 is on t008's node without saying why: %q", last.Placement)
	case last.Node != prev.Node && !strings.Contains(last.Placement, "context prev travels from "+plan.NodeName(prev.Node)):
		t.Errorf("t009's context comes from another node, unsaid: %q", last.Placement)
	}
}

func TestNodeName(t *testing.T) {
	for ep, want := range map[string]string{
		"tcp://arm-1:1234":                 "arm-1",
		"ssh://ci@arm-3":                   "arm-3",
		"ssh://ci@arm-3:2222":              "arm-3",
		"unix:///run/buildkit/a.sock":      "a.sock",
		"docker-container://buildx_node-0": "buildx_node-0",
		"kube-pod://buildkitd-0?context=x": "buildkitd-0",
		"tcp://[::1]:1234":                 "::1",
		"auto":                             "auto",
	} {
		if got := plan.NodeName(ep); got != want {
			t.Errorf("NodeName(%s) = %s, want %s", ep, got, want)
		}
	}
}
