package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/plan"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
)

// fleetSpec is a spec of n targets over two pools: builder "amd" of the
// given nodes, and builder "arm" of the test environment's arm64 node.
// Each build runs a RUN on each platform, marked with the run and its
// target so that each node's build history says which it built.
func fleetSpec(env testenv.Env, amd []string, run string, n int) string {
	quoted := `"` + strings.Join(amd, `", "`) + `"`
	var b strings.Builder
	fmt.Fprintf(&b, "builder \"amd\" {\n  platforms = [\"linux/amd64\"]\n  nodes     = [%s]\n}\n", quoted)
	fmt.Fprintf(&b, "builder \"arm\" {\n  platforms = [\"linux/arm64\"]\n  nodes     = [%q]\n}\n", env.ArmNode)
	fmt.Fprintf(&b, "registry \"local\" {\n  host     = %q\n  insecure = true\n}\n", env.Registry)
	for i := range n {
		fmt.Fprintf(&b, `target "t%d" {
  dockerfile_inline = "FROM %s\nARG TESTRUN TARGET\nRUN echo $TARGET > /t"
  platforms         = ["linux/amd64", "linux/arm64"]
  args              = { TESTRUN = %q, TARGET = "t%d" }
  output            = [{ type = "cacheonly" }]
}
`, i, env.Base, run, i)
	}
	return b.String()
}

// builtOn is, for each target, the nodes whose build history holds a
// solve of it in run.
func builtOn(t *testing.T, nodes []string, run string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, node := range nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := client.New(ctx, node)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
		if err != nil {
			t.Fatal(err)
		}
		for {
			ev, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := ev.Record; r != nil && r.FrontendAttrs["build-arg:TESTRUN"] == run {
				out[r.FrontendAttrs["build-arg:TARGET"]] = append(out[r.FrontendAttrs["build-arg:TARGET"]], node)
			}
		}
		c.Close()
		cancel()
	}
	return out
}

// placed is, from a plan's JSON, each build step's node.
func placed(t *testing.T, out string) map[string]string {
	t.Helper()
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	nodes := map[string]string{}
	for _, st := range p.Steps {
		if st.Build != nil {
			if st.Build.Node == "" || st.Build.Placement == "" {
				t.Errorf("%s is not placed", st.ID)
			}
			nodes[st.ID] = st.Build.Node
		}
	}
	return nodes
}

// TestPoolPlacesAndBuilds: eight targets over a pool of two amd64 nodes
// and an arm64 node. The plan places builds on all three, and each node's
// build history (what BuildKit itself says it solved) holds exactly the
// builds the plan put there, on two applies in a row.
func TestPoolPlacesAndBuilds(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t) // the arm64 node runs its binaries through binfmt_misc
	run := fmt.Sprint(time.Now().UnixNano())
	amd := []string{env.Buildkit, env.FleetNode}
	spec := writeFile(t, t.TempDir(), "bakeplan.hcl", fleetSpec(env, amd, run, 8))
	out, errOut, code := bakeplan(t, "plan", "--offline", "--json", "-f", spec)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	planned := placed(t, out)
	used := map[string]int{}
	for _, n := range planned {
		used[n]++
	}
	if used[env.Buildkit] == 0 || used[env.FleetNode] == 0 || used[env.ArmNode] != 8 {
		t.Fatalf("the plan does not use every node: %v", used)
	}
	for range 2 {
		if _, errOut, code := runWith(t, []string{"BUILDKIT_HOST=unix:///nonexistent"}, "apply", "--offline", "--progress", "quiet", "-f", spec); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, errOut)
		}
	}
	got := builtOn(t, append(amd, env.ArmNode), run)
	for i := range 8 {
		target := fmt.Sprintf("t%d", i)
		want := []string{planned["build."+target+"@amd"], planned["build."+target+"@amd"], env.ArmNode, env.ArmNode}
		if fmt.Sprint(sortedCopy(got[target])) != fmt.Sprint(sortedCopy(want)) {
			t.Errorf("%s was built on %v; the plan put it on %v, twice", target, got[target], want)
		}
	}
}

// TestPoolNodeDown: a node that does not answer is shown by an online plan,
// which places its builds on the others, and apply succeeds; a pool with
// no node up is an error naming each node, and nothing is built.
func TestPoolNodeDown(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t)
	run := fmt.Sprint(time.Now().UnixNano())
	gone := "unix://" + filepath.Join(t.TempDir(), "gone.sock")
	dir := t.TempDir()
	spec := writeFile(t, dir, "bakeplan.hcl", fleetSpec(env, []string{gone, env.Buildkit}, run, 4))
	out, errOut, code := bakeplan(t, "plan", "--json", "-f", spec)
	if code != 0 {
		t.Fatalf("plan with a node down: exit %d\n%s", code, errOut)
	}
	for id, n := range placed(t, out) {
		if n == gone {
			t.Errorf("%s is placed on the node that is down", id)
		}
	}
	text, _, _ := bakeplan(t, "plan", "-f", spec)
	if !strings.Contains(text, "node "+gone) || !strings.Contains(text, "down:") || !strings.Contains(text, "is down") {
		t.Errorf("the plan does not show the node down and why builds moved:\n%s", text)
	}
	if _, errOut, code := bakeplan(t, "apply", "--progress", "quiet", "-f", spec); code != 0 {
		t.Fatalf("apply with a node down: exit %d\n%s", code, errOut)
	}
	if got := builtOn(t, []string{env.Buildkit}, run); len(got) != 4 {
		t.Errorf("built %v; want the four targets on %s", got, env.Buildkit)
	}

	other := "unix://" + filepath.Join(t.TempDir(), "gone-too.sock")
	run2 := run + "-down"
	spec = writeFile(t, dir, "bakeplan.hcl", fleetSpec(env, []string{gone, other}, run2, 2))
	for _, verb := range []string{"plan", "apply"} {
		_, errOut, code := bakeplan(t, verb, "-f", spec)
		if code != 1 || !strings.Contains(errOut, "Builder amd has no node up") || !strings.Contains(errOut, gone) || !strings.Contains(errOut, other) {
			t.Errorf("%s with every node down: exit %d\n%s", verb, code, errOut)
		}
	}
	if got := builtOn(t, []string{env.ArmNode}, run2); len(got) != 0 {
		t.Errorf("a run with a pool down built %v", got)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
