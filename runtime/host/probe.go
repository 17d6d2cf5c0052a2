package host

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/containerd/platforms"
)

// Options say where the host's parts are.
type Options struct {
	Binfmt Binfmt
	Env    endpoint.Env
	Daemon DaemonConfig
	// ProbeRegistryWrites also checks that each registry stores OCI image
	// indexes, by writing and deleting one (see ProbeIndex).
	ProbeRegistryWrites bool
}

// Problem is an unmet requirement that bakeplan cannot fix; Step ties it to
// the spec line that declared the requirement.
type Problem struct {
	Step    string
	Summary string
	Detail  string
}

// Probe checks every host step of the plan against the machine, recording
// what it found in Observed and, where bakeplan can fix a difference, the
// fix in Change (the step's action stays "ensure"); steps that already
// match become "no-op". It only reads.
func Probe(ctx context.Context, p *plan.Plan, opts Options) []Problem {
	// Docker answers once, for the image store step and for knowing whether
	// emulators live in Docker Desktop's VM.
	var docker *DockerState
	if needsDocker(p, opts) {
		s := ProbeDocker(ctx, opts.Env.DockerHost)
		docker = &s
	}
	desktop := desktopPlatforms(ctx, p, docker, opts)
	// Each step is probed on its own goroutine: running a foreign binary
	// under QEMU, dialling builders and registries all wait on something
	// else. Problems are gathered per step, so their order is the plan's.
	found := make([][]Problem, len(p.Steps))
	regs := registry.FromPlan(p)
	var wg sync.WaitGroup
	for i, st := range p.Steps {
		add := func(st *plan.Step, summary, detail string) {
			found[i] = append(found[i], Problem{Step: st.ID, Summary: summary, Detail: detail})
		}
		var probe func()
		switch {
		case st.Emulator != nil && desktop != nil:
			probe = func() { emulatorThroughBuilder(st, desktop, add) }
		case st.Emulator != nil:
			probe = func() { probeEmulator(ctx, st, opts, add) }
		case st.Docker != nil:
			probe = func() { probeDocker(st, *docker, add) }
		case st.Builder != nil:
			probe = func() { probeBuilder(ctx, p, st, opts, add) }
		case st.Registry != nil:
			probe = func() { probeRegistry(ctx, regs, st, opts, add) }
		default:
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			probe()
		}()
	}
	wg.Wait()
	var problems []Problem
	for _, f := range found {
		problems = append(problems, f...)
	}
	return problems
}

// desktopPlatforms returns the platforms Docker Desktop's builder serves
// when the plan builds on Docker Desktop, whose emulators live in its VM and
// not in this machine's binfmt_misc; nil otherwise.
func desktopPlatforms(ctx context.Context, p *plan.Plan, docker *DockerState, opts Options) []string {
	if docker == nil || !docker.Desktop || !buildsOnDocker(p, opts) {
		return nil
	}
	c, err := endpoint.Connect(ctx, endpoint.Resolve("docker", opts.Env))
	if err != nil {
		return []string{}
	}
	defer c.Close()
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		return []string{}
	}
	var out []string
	for _, w := range workers {
		for _, wp := range w.Platforms {
			out = append(out, platforms.Format(platforms.Normalize(wp)))
		}
	}
	return out
}

// buildsOnDocker reports whether a builder of the plan is a Docker Engine's
// BuildKit.
func buildsOnDocker(p *plan.Plan, opts Options) bool {
	for _, st := range p.Steps {
		if st.Builder != nil && endpoint.Resolve(st.Builder.Endpoint, opts.Env).Docker {
			return true
		}
	}
	return false
}

// needsDocker reports whether probing the plan asks the Docker Engine
// anything: its image store, or whether it is Docker Desktop.
func needsDocker(p *plan.Plan, opts Options) bool {
	if p.Step("host.docker.image_store") != nil {
		return true
	}
	for _, st := range p.Steps {
		if st.Emulator != nil {
			return buildsOnDocker(p, opts)
		}
	}
	return false
}

// emulatorThroughBuilder checks an emulator by the platforms Docker
// Desktop's builder serves: bakeplan cannot reach its VM's binfmt_misc.
func emulatorThroughBuilder(st *plan.Step, served []string, add func(*plan.Step, string, string)) {
	e := st.Emulator
	st.Observed = map[string]string{"checked": "through Docker Desktop's builder"}
	for _, s := range served {
		if p, err := platforms.Parse(s); err == nil && p.Architecture == e.Arch {
			st.Observed["served"] = "yes"
			st.Action = plan.ActionNoop
			return
		}
	}
	st.Observed["served"] = "no"
	add(st, fmt.Sprintf("Docker Desktop does not emulate %s", e.Arch),
		fmt.Sprintf("Docker Desktop runs builds in its VM, whose emulators bakeplan cannot register from here. Install it with: docker run --privileged --rm tonistiigi/binfmt --install %s", e.Arch))
}

func probeEmulator(ctx context.Context, st *plan.Step, opts Options, add func(*plan.Step, string, string)) {
	e := st.Emulator
	s := opts.Binfmt.Probe(ctx, e.Arch, e.Interpreter)
	st.Observed = map[string]string{
		"binfmt_misc": yesNo(s.Mounted, "mounted", "not mounted"),
		"registered":  yesNo(s.Registered, "yes", "no"),
		"executes":    yesNo(s.Executes, "yes", "no"),
	}
	if s.Registered {
		st.Observed["flags"] = s.Flags
		st.Observed["interpreter"] = s.Interpreter
		st.Observed["enabled"] = yesNo(s.Enabled, "yes", "no")
	}
	if s.OK() {
		st.Action = plan.ActionNoop
		return
	}
	line, err := opts.Binfmt.Registration(e.Arch, e.Interpreter)
	if err != nil {
		add(st, fmt.Sprintf("Emulator %s is missing and cannot be installed", e.Arch), err.Error())
		return
	}
	interp := strings.Split(line, ":")[6]
	switch {
	case !s.Registered:
		st.Change = &plan.Change{Symbol: "+", Summary: fmt.Sprintf("register %s (interpreter %s, flags F)", e.Interpreter, interp), After: line}
	case !strings.Contains(s.Flags, "F"):
		st.Change = &plan.Change{Symbol: "~", Summary: fmt.Sprintf("re-register %s without F -> with F", e.Interpreter),
			Before: "flags: " + s.Flags, After: line, Note: "without F the interpreter is not found inside build containers"}
	case !s.Enabled:
		st.Change = &plan.Change{Symbol: "~", Summary: fmt.Sprintf("re-register %s: disabled -> enabled", e.Interpreter), Before: "disabled", After: line}
	default:
		st.Change = &plan.Change{Symbol: "-/+", Summary: fmt.Sprintf("replace %s (interpreter %s: %s)", e.Interpreter, s.Interpreter, emptyOr(s.ExecError, "does not run")), After: line}
	}
}

func probeDocker(st *plan.Step, s DockerState, add func(*plan.Step, string, string)) {
	if !s.Reachable {
		add(st, "Docker is not reachable", fmt.Sprintf("The spec requires Docker's containerd image store, but the engine at %s does not answer: %s. Start Docker or set DOCKER_HOST.", s.Host, s.Error))
		return
	}
	st.Observed = map[string]string{"version": s.Version, "image_store": s.Store()}
	if s.Desktop {
		st.Observed["desktop"] = "yes"
	}
	if s.Rootless {
		st.Observed["rootless"] = "yes"
	}
	if s.ContainerdStore {
		st.Action = plan.ActionNoop
		return
	}
	if s.Desktop {
		add(st, "Docker Desktop uses the "+s.Store()+" image store",
			"Docker Desktop keeps its settings in its VM; switch on \"Use containerd for pulling and storing images\" in Settings > General.")
		return
	}
	note := "restarts Docker; images kept in " + s.Store() + " are no longer listed until switched back"
	if s.Rootless {
		note += "; rootless Docker keeps daemon.json in ~/.config/docker"
	}
	st.Change = &plan.Change{
		Symbol: "~", Summary: "docker image store: " + s.Store() + " -> containerd", Before: s.Store(), After: "containerd",
		Destructive: true, Note: note,
	}
}

func probeBuilder(ctx context.Context, p *plan.Plan, st *plan.Step, opts Options, add func(*plan.Step, string, string)) {
	b := st.Builder
	if len(b.Nodes) > 0 {
		probePool(ctx, p, st, opts, add)
		return
	}
	r := endpoint.ForNode(b, "", opts.Env)
	n, err := probeNode(ctx, r)
	if err != nil {
		add(st, err.summary(b.Name), err.Error())
		return
	}
	st.Observed = map[string]string{
		"endpoint": r.String(), "buildkit": n.version,
		"native": strings.Join(n.native, ", "), "emulated": emptyOr(strings.Join(n.emulated, ", "), "none"),
	}
	st.Action = plan.ActionNoop
	for _, need := range needs(p, b) {
		if !n.seen[need.platform] {
			add(st, fmt.Sprintf("Builder %s does not serve %s", b.Name, need.platform),
				fmt.Sprintf("%s needs %s on builder.%s (%s), whose workers serve %s. Declare a builder that serves it, or add its emulator on that builder's host.",
					need.step, need.platform, b.Name, r, strings.Join(n.served, ", ")))
		}
	}
}

// probePool probes every node of a pool at once. A node that does not
// answer, or does not serve what the pool's builds need, is down: the
// plan shows it, and the builds are placed on the others. A pool with no
// node up is a problem naming each node's failure.
func probePool(ctx context.Context, p *plan.Plan, st *plan.Step, opts Options, add func(*plan.Step, string, string)) {
	b := st.Builder
	state := make([]string, len(b.Nodes))
	up := make([]bool, len(b.Nodes))
	var wg sync.WaitGroup
	for i, node := range b.Nodes {
		wg.Go(func() {
			r := endpoint.ForNode(b, node, opts.Env)
			n, err := probeNode(ctx, r)
			if err != nil {
				state[i] = plan.NodeDown + err.Error()
				return
			}
			for _, need := range needs(p, b) {
				if !n.seen[need.platform] {
					state[i] = plan.NodeDown + fmt.Sprintf("serves %s, not %s", strings.Join(n.served, ", "), need.platform)
					return
				}
			}
			up[i] = true
			state[i] = fmt.Sprintf("up: BuildKit %s, native %s", n.version, strings.Join(n.native, ", "))
		})
	}
	wg.Wait()
	st.Observed = map[string]string{}
	var failures []string
	for i, node := range b.Nodes {
		st.Observed[plan.NodeKey(node)] = state[i]
		if !up[i] {
			failures = append(failures, node+": "+strings.TrimPrefix(state[i], plan.NodeDown))
		}
	}
	if len(failures) == len(b.Nodes) {
		add(st, fmt.Sprintf("Builder %s has no node up", b.Name), "Every node of the pool failed:\n  "+strings.Join(failures, "\n  "))
		return
	}
	st.Action = plan.ActionNoop
}

// node is what one BuildKit node said of itself.
type node struct {
	version                  string
	served, native, emulated []string
	seen                     map[string]bool
}

// nodeError is a node that could not be probed, and at which stage.
type nodeError struct {
	listing bool // it answered, but did not list its workers
	err     error
}

func (e *nodeError) Error() string { return e.err.Error() }

func (e *nodeError) summary(builder string) string {
	if e.listing {
		return fmt.Sprintf("Builder %s does not list its workers", builder)
	}
	return fmt.Sprintf("Builder %s is not reachable", builder)
}

// probeNode dials a node and reads its workers' platforms. BuildKit lists
// a worker's own platform first; its variants and what it runs through
// compatibility (386 on amd64, arm/v7 on arm64) count as native, the rest
// is emulated through binfmt_misc.
func probeNode(ctx context.Context, r endpoint.Resolved) (*node, *nodeError) {
	c, info, err := endpoint.Dial(ctx, r)
	if err != nil {
		return nil, &nodeError{err: err}
	}
	defer c.Close()
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		return nil, &nodeError{listing: true, err: err}
	}
	n := &node{version: info.BuildkitVersion.Version, seen: map[string]bool{}}
	for _, w := range workers {
		for _, wp := range w.Platforms {
			f := platforms.Format(platforms.Normalize(wp))
			if !n.seen[f] {
				n.seen[f] = true
				n.served = append(n.served, f)
			}
		}
	}
	sort.Strings(n.served)
	if len(workers) > 0 && len(workers[0].Platforms) > 0 {
		first := workers[0].Platforms[0]
		m := platforms.Only(first)
		for _, f := range n.served {
			if p := platforms.MustParse(f); p.Architecture == first.Architecture || m.Match(p) {
				n.native = append(n.native, f)
			} else {
				n.emulated = append(n.emulated, f)
			}
		}
	}
	return n, nil
}

// need is a platform a build step needs its builder's workers to serve:
// not cross-compiled, and not emulated by a local builder's host.
type need struct{ step, platform string }

func needs(p *plan.Plan, b *plan.Builder) []need {
	var out []need
	for _, other := range p.Steps {
		if other.Build == nil || other.Build.Builder != b.Name {
			continue
		}
		for _, run := range other.Build.Platforms {
			if !run.CrossCompiled && !(run.Emulator != "" && b.Local) {
				out = append(out, need{other.ID, run.Platform})
			}
		}
	}
	return out
}

// probeRegistry checks that a registry answers the registry API the way
// bakeplan will reach it (scheme, certificates), and that the Docker
// config's credentials for it are accepted: wrong credentials are found
// here, before a build, not when the first tag is written.
func probeRegistry(ctx context.Context, regs *registry.Registries, st *plan.Step, opts Options, add func(*plan.Step, string, string)) {
	r := st.Registry
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var url string
	resp, err := regs.Do(ctx, r.Host, "", func(base string) (*http.Request, error) {
		url = base + "/"
		return http.NewRequest(http.MethodGet, url, nil)
	})
	if err != nil {
		add(st, fmt.Sprintf("Registry %s is not reachable", r.Name), fmt.Sprintf("GET %s: %s", emptyOr(url, r.Host), err))
		return
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized && regs.HasCredentials(r.Host):
		add(st, fmt.Sprintf("Registry %s refuses the credentials", r.Name), fmt.Sprintf("GET %s answered %s with the credentials the Docker config holds for %s. Log in again (docker login %s).", url, resp.Status, r.Host, r.Host))
		return
	case resp.StatusCode == http.StatusUnauthorized:
		add(st, fmt.Sprintf("Registry %s needs credentials", r.Name), fmt.Sprintf("GET %s answered %s, and the Docker config holds no credentials for %s. Log in first (docker login %s).", url, resp.Status, r.Host, r.Host))
		return
	case resp.StatusCode != http.StatusOK:
		add(st, fmt.Sprintf("Registry %s does not speak the registry API", r.Name), fmt.Sprintf("GET %s answered %s.", url, resp.Status))
		return
	}
	st.Observed = map[string]string{"api": emptyOr(resp.Header.Get("Docker-Distribution-Api-Version"), "registry/2.0 (assumed)"), "status": resp.Status}
	if regs.HasCredentials(r.Host) {
		st.Observed["credentials"] = "accepted"
	}
	st.Action = plan.ActionNoop
	if opts.ProbeRegistryWrites {
		left, err := ProbeIndex(ctx, regs, r.Host)
		if err != nil {
			add(st, fmt.Sprintf("Registry %s does not take multi-platform images", r.Name), err.Error())
			return
		}
		st.Observed["oci_index"] = "accepted"
		if left {
			st.Observed["oci_index"] = "accepted; deletes are disabled, so an untagged empty index stays in " + IndexProbeRepository
		}
	}
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func emptyOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
