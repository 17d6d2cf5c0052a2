package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/plan"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
)

// fleetSpec is a spec of n targets over two pools: builder "amd" of the
// given nodes, and builder "arm" of the test environment's arm64 node.
// Each build runs a RUN that sleeps 2 seconds on each platform, marked
// with the run and its target so that each node's build history says
// which it built.
func fleetSpec(env testenv.Env, amd []string, run string, n int) string {
	quoted := `"` + strings.Join(amd, `", "`) + `"`
	var b strings.Builder
	fmt.Fprintf(&b, "builder \"amd\" {\n  platforms = [\"linux/amd64\"]\n  nodes     = [%s]\n}\n", quoted)
	fmt.Fprintf(&b, "builder \"arm\" {\n  platforms = [\"linux/arm64\"]\n  nodes     = [%q]\n}\n", env.ArmNode)
	fmt.Fprintf(&b, "registry \"local\" {\n  host     = %q\n  insecure = true\n}\n", env.Registry)
	for i := range n {
		fmt.Fprintf(&b, `target "t%d" {
  dockerfile_inline = "FROM %s\nARG TESTRUN TARGET\nRUN sleep 2 && echo $TARGET > /t"
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

// TestPoolPlacesAndBuilds: 24 targets over a pool of two amd64 nodes and
// an arm64 node. The plan places builds on all three, and each node's
// build history (what BuildKit itself says it solved) holds exactly the
// builds the plan put there, on two applies in a row.
func TestPoolPlacesAndBuilds(t *testing.T) {
	env := testenv.Get(t)
	testenv.Emulates(t) // the arm64 node runs its binaries through binfmt_misc
	run := fmt.Sprint(time.Now().UnixNano())
	amd := []string{env.Buildkit, env.FleetNode}
	const n = 24
	spec := writeFile(t, t.TempDir(), "bakeplan.hcl", fleetSpec(env, amd, run, n))
	out, errOut, code := bakeplan(t, "plan", "--offline", "--json", "-f", spec)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	planned := placed(t, out)
	used := map[string]int{}
	for _, n := range planned {
		used[n]++
	}
	if used[env.Buildkit] == 0 || used[env.FleetNode] == 0 || used[env.ArmNode] != n {
		t.Fatalf("the plan does not use every node: %v", used)
	}
	for range 2 {
		if _, errOut, code := runWith(t, []string{"BUILDKIT_HOST=unix:///nonexistent"}, "apply", "--offline", "--progress", "quiet", "-f", spec); code != 0 {
			t.Fatalf("apply: exit %d\n%s", code, errOut)
		}
	}
	got := builtOn(t, append(amd, env.ArmNode), run)
	for i := range n {
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
	text, errOut, code := bakeplan(t, "plan", "-f", spec)
	if !strings.Contains(text, "node "+gone) || !strings.Contains(text, "down:") || !strings.Contains(text, "is down") {
		t.Errorf("the plan does not show the node down and why builds moved:\n%s", text)
	}
	if _, errOut, code := bakeplan(t, "apply", "--progress", "quiet", "-f", spec); code != 0 {
		t.Fatalf("apply with a node down: exit %d\n%s", code, errOut)
	}
	// Nodes that answer but do not serve the pool's platform are down
	// too, and say why: no node here serves linux/s390x.
	wrongDir := t.TempDir()
	wrong := writeFile(t, wrongDir, "bakeplan.hcl", fmt.Sprintf("builder \"z\" {\n  platforms = [\"linux/s390x\"]\n  nodes     = [%q, %q]\n}\ntarget \"t\" {\n  dockerfile_inline = \"FROM scratch\\nRUN true\"\n  platforms = [\"linux/s390x\"]\n}\n", env.FleetNode, env.Buildkit))
	_, errOut, code = bakeplan(t, "plan", "-f", wrong)
	if code != 1 || !strings.Contains(errOut, "Builder z has no node up") || !strings.Contains(errOut, "not linux/s390x") {
		t.Errorf("a pool whose nodes serve other platforms: exit %d\n%s", code, errOut)
	}
	if got := builtOn(t, []string{env.Buildkit}, run); len(got) != 4 {
		t.Errorf("built %v; want the four targets on %s", got, env.Buildkit)
	}
	// Offline nothing is probed: the plan places builds on the node that
	// is down, and apply, finding it does not answer, moves them.
	offline := writeFile(t, t.TempDir(), "bakeplan.hcl", fleetSpec(env, []string{gone, env.Buildkit}, run+"-offline", 4))
	out, _, _ = bakeplan(t, "plan", "--offline", "--json", "-f", offline)
	onGone := 0
	for _, n := range placed(t, out) {
		if n == gone {
			onGone++
		}
	}
	if _, errOut, code := bakeplan(t, "apply", "--offline", "--progress", "quiet", "-f", offline); code != 0 || (onGone > 0 && !strings.Contains(errOut, gone+" -> "+env.Buildkit+" (it did not answer when the run began)")) {
		t.Errorf("an offline apply with a node down (%d builds placed on it): exit %d\n%s", onGone, code, errOut)
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

// privateNode starts a buildkitd of the test's own, which the test may
// kill, and returns its address and process.
func privateNode(t *testing.T, env testenv.Env) (string, *os.Process) {
	t.Helper()
	dir, err := os.MkdirTemp("", "bk-node-") // short: a unix socket path is bounded
	if err != nil {
		t.Fatal(err)
	}
	addr := "unix://" + filepath.Join(dir, "bk.sock")
	cmd := exec.Command(filepath.Join(env.Bin, "buildkitd"), "--addr", addr, "--root", filepath.Join(dir, "root"),
		"--oci-worker=true", "--containerd-worker=false")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		_ = os.RemoveAll(dir)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := client.New(ctx, addr)
		if err == nil {
			_, err = c.Info(ctx)
			c.Close()
		}
		cancel()
		if err == nil {
			return addr, cmd.Process
		}
		if time.Now().After(deadline) {
			t.Fatalf("buildkitd at %s did not come up: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// signalWhenBuilding sends sig to the node's process once its build history
// holds a build of run: the node is lost in the middle of the run.
func signalWhenBuilding(t *testing.T, node, run string, proc *os.Process, sig syscall.Signal) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(builtOn(t, []string{node}, run)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the node at %s never started a build", node)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := proc.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// TestPoolFailover: a node killed (kill -9) in the middle of a run loses
// its builds to the other node of the pool; the run succeeds, says which
// builds moved, every tag holds the image the summary names, and each tag
// was written once.
func TestPoolFailover(t *testing.T) {
	env := testenv.Get(t)
	doomed, proc := privateNode(t, env)
	run := fmt.Sprint(time.Now().UnixNano())
	repo := fmt.Sprintf("%s/e2e-failover-%s", env.Registry, run)
	var b strings.Builder
	fmt.Fprintf(&b, "builder \"amd\" {\n  platforms = [\"linux/amd64\"]\n  nodes     = [%q, %q]\n}\n", doomed, env.Buildkit)
	fmt.Fprintf(&b, "registry \"local\" {\n  host     = %q\n  insecure = true\n}\n", env.Registry)
	const n = 6
	for i := range n {
		fmt.Fprintf(&b, `target "t%d" {
  dockerfile_inline = "FROM %s\nARG TESTRUN TARGET\nRUN sleep 3 && echo $TARGET > /t"
  platforms         = ["linux/amd64"]
  args              = { TESTRUN = %q, TARGET = "t%d" }
  tags              = ["%s/t%d:1"]
  push              = true
}
`, i, env.Base, run, i, repo, i)
	}
	dir := t.TempDir()
	spec := writeFile(t, dir, "bakeplan.hcl", b.String())
	out, errOut, code := bakeplan(t, "plan", "--offline", "--json", "-f", spec)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	onDoomed := 0
	for _, node := range placed(t, out) {
		if node == doomed {
			onDoomed++
		}
	}
	if onDoomed == 0 {
		t.Fatal("the plan puts no build on the node to kill")
	}

	meta := filepath.Join(dir, "meta.json")
	type result struct {
		stderr string
		code   int
	}
	done := make(chan result, 1)
	go func() {
		_, errOut, code := bakeplan(t, "apply", "--offline", "--progress", "quiet", "--metadata-file", meta, "-f", spec)
		done <- result{errOut, code}
	}()
	// Kill the node once it is building.
	signalWhenBuilding(t, doomed, run, proc, syscall.SIGKILL)
	res := <-done
	if res.code != 0 {
		t.Fatalf("apply with a node killed: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "Builds moved to another node of their pool:") || !strings.Contains(res.stderr, doomed+" -> "+env.Buildkit) {
		t.Errorf("the summary does not say which builds moved:\n%s", res.stderr)
	}
	data, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Builds []struct {
			Target, Digest, Node string
			Moved                []struct{ From, To string }
		}
		Published []struct{ Tag, Digest string }
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	moved, digest := 0, map[string]string{}
	for _, bl := range sum.Builds {
		moved += len(bl.Moved)
		if bl.Node == doomed {
			t.Errorf("%s is recorded as built on the killed node", bl.Target)
		}
		digest[bl.Target] = bl.Digest
	}
	if moved == 0 {
		t.Error("no build moved, though its node was killed")
	}
	written := map[string]int{}
	for _, p := range sum.Published {
		written[p.Tag]++
	}
	for i := range n {
		tag := fmt.Sprintf("%s/t%d:1", repo, i)
		target := fmt.Sprintf("t%d", i)
		if written[tag] != 1 {
			t.Errorf("%s was written %d times", tag, written[tag])
		}
		if got := manifestDigest(t, env.Registry, tag); got != digest[target] {
			t.Errorf("%s holds %s; the summary says %s was built as %s", tag, got, target, digest[target])
		}
	}
}

// TestPoolStallFailover: a node that stops answering without dropping the
// connection (SIGSTOP) is found by --stall-timeout, and its builds move to
// the other node of the pool; the run succeeds.
func TestPoolStallFailover(t *testing.T) {
	env := testenv.Get(t)
	frozen, proc := privateNode(t, env)
	run := fmt.Sprint(time.Now().UnixNano())
	var b strings.Builder
	fmt.Fprintf(&b, "builder \"amd\" {\n  platforms = [\"linux/amd64\"]\n  nodes     = [%q, %q]\n}\n", frozen, env.Buildkit)
	for i := range 4 {
		fmt.Fprintf(&b, `target "t%d" {
  dockerfile_inline = "FROM %s\nARG TESTRUN TARGET\nRUN sleep 1 && echo $TARGET > /t"
  platforms         = ["linux/amd64"]
  args              = { TESTRUN = %q, TARGET = "t%d" }
  output            = [{ type = "cacheonly" }]
}
`, i, env.Base, run, i)
	}
	spec := writeFile(t, t.TempDir(), "bakeplan.hcl", b.String())
	done := make(chan string, 1)
	go func() {
		_, errOut, code := bakeplan(t, "apply", "--offline", "--progress", "quiet", "--stall-timeout", "4s", "-f", spec)
		done <- fmt.Sprintf("exit %d\n%s", code, errOut)
	}()
	signalWhenBuilding(t, frozen, run, proc, syscall.SIGSTOP)
	select {
	case res := <-done:
		if !strings.HasPrefix(res, "exit 0") || !strings.Contains(res, frozen+" -> "+env.Buildkit) || !strings.Contains(res, "no progress") {
			t.Errorf("apply with a node stopped: %s", res)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("apply did not give up the stopped node")
	}
}
