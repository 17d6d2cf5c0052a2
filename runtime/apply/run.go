package apply

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/plan/placement"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/solve"
	"github.com/bakeplan/bakeplan/runtime/uptodate"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	dockerclient "github.com/moby/moby/client"
)

// Apply runs the plan's builds and publishes. On any failure (unless
// KeepGoing) and on cancellation no tag is written.
func Apply(ctx context.Context, p *plan.Plan, opts Options) (*Summary, error) {
	r, err := newRun(p, opts)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if err := r.connect(ctx); err != nil {
		return nil, err
	}
	if err := r.buildAll(ctx); err != nil {
		return nil, err
	}
	r.saveState()
	sum, failures := r.summary()
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("interrupted; no tag was written: %w", err)
	}
	if len(failures) > 0 && !opts.KeepGoing {
		_ = writeMetadata(opts.MetadataFile, sum)
		return sum, fmt.Errorf("%d build(s) failed; no tag was written:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	pubErr := publishAll(ctx, p, r.results, sum, r.opts)
	if err := writeMetadata(opts.MetadataFile, sum); err != nil {
		return sum, err
	}
	if pubErr != nil {
		return sum, pubErr
	}
	if len(failures) > 0 {
		return sum, fmt.Errorf("%d build(s) failed; targets that depend on them were not tagged:\n  %s", len(failures), strings.Join(failures, "\n  "))
	}
	return sum, nil
}

// run is one apply: the plan and its requests, the clients the builds
// use, and what the builds share while they run. Steps are found by ID
// through the plan's index.
type run struct {
	p    *plan.Plan
	opts Options
	reqs []*solve.Request
	// running are the requests that send a solve: not up to date.
	running []*solve.Request
	skip    map[string]bool
	// layoutFor marks the builds another build takes as a context: they
	// export an OCI layout.
	layoutFor map[string]bool
	// clients are by node (nodeKey); slots bound each pool node's solves
	// (max_solves), sem the run's (--parallelism).
	clients map[string]*client.Client
	slots   map[string]chan struct{}
	docker  *dockerclient.Client
	work    string // a temporary directory for layouts
	sem     chan struct{}

	// lost are the pool nodes that died or stopped answering during the
	// run (by nodeKey), with why; no build moves to one.
	lost map[string]string

	// Set while the builds run.
	status chan<- *client.SolveStatus
	cancel context.CancelFunc
	done   map[string]chan struct{} // closed when a build has its result

	mu      sync.Mutex
	results map[string]*BuildResult
	layouts map[string]solve.Layout
}

// newRun checks what a run needs before anything is dialled: the requests,
// the secrets of the builds that run, and a metadata file that can be
// written (it is written after the tags move).
func newRun(p *plan.Plan, opts Options) (*run, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	reqs, err := Requests(p, opts)
	if err != nil {
		return nil, err
	}
	r := &run{p: p, opts: opts, reqs: reqs, skip: skipping(p, opts.Rebuild), layoutFor: map[string]bool{},
		clients: map[string]*client.Client{}, slots: map[string]chan struct{}{}, done: map[string]chan struct{}{}, lost: map[string]string{},
		results: map[string]*BuildResult{}, layouts: map[string]solve.Layout{}}
	// Builds the plan found up to date send nothing: their secrets need
	// not be set, nor their builders answer.
	for _, q := range reqs {
		if !r.skip[q.Step] {
			r.running = append(r.running, q)
		}
		r.done[q.Step] = make(chan struct{})
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if err := solve.CheckSecrets(r.running, lookup); err != nil {
		return nil, err
	}
	if opts.MetadataFile != "" {
		if err := atomicfile.CheckWritable(opts.MetadataFile); err != nil {
			return nil, fmt.Errorf("metadata file: %w; nothing was built", err)
		}
	}
	for _, st := range p.Steps {
		for _, e := range st.Needs {
			if e.Kind == plan.EdgeData {
				r.layoutFor[e.Step] = true
			}
		}
	}
	if opts.Parallelism > 0 {
		r.sem = make(chan struct{}, opts.Parallelism)
	}
	for _, st := range p.Steps {
		if b := st.Builder; b != nil && b.MaxSolves > 0 {
			for _, n := range b.Nodes {
				r.slots[nodeKey(b.Name, n)] = make(chan struct{}, b.MaxSolves)
			}
		}
	}
	return r, nil
}

// nodeKey names one node of a builder: a pool's node, or ("") the
// builder's one endpoint.
func nodeKey(builder, node string) string {
	if node == "" {
		return builder
	}
	return builder + " " + node
}

// connect dials every builder a running build uses, and Docker when a
// build loads into it: all must answer before anything is solved.
func (r *run) connect(ctx context.Context) error {
	for _, st := range r.p.Steps {
		if st.Builder == nil {
			continue
		}
		down := map[string]string{}
		for _, n := range endpoint.Nodes(st.Builder) {
			if !usesNode(r.running, st.Builder.Name, n) {
				continue
			}
			c, err := endpoint.Connect(ctx, endpoint.ForNode(st.Builder, n, r.opts.Env))
			switch {
			case err == nil:
				r.clients[nodeKey(st.Builder.Name, n)] = c
			case n != "" && r.opts.Failover > 0:
				// A pool node that does not answer is lost before the
				// run: its builds move as if it died mid-build.
				r.lost[nodeKey(st.Builder.Name, n)] = err.Error()
				down[n] = err.Error()
			default:
				return fmt.Errorf("builder.%s: %w", st.Builder.Name, err)
			}
		}
		if len(down) > 0 && len(down) == len(st.Builder.Nodes) {
			return &placement.NoNodeError{Builder: st.Builder.Name, Down: down, Nodes: st.Builder.Nodes}
		}
	}
	for _, q := range r.reqs {
		for _, e := range q.Exports {
			if e.Load && r.docker == nil {
				host := r.opts.Env.DockerHost
				if host == "" {
					host = dockerclient.DefaultDockerHost
				}
				d, err := dockerclient.New(dockerclient.WithHost(host))
				if err != nil {
					return fmt.Errorf("docker at %s: %w", host, err)
				}
				r.docker = d
			}
		}
	}
	return nil
}

func (r *run) close() {
	for _, c := range r.clients {
		c.Close()
	}
	if r.docker != nil {
		r.docker.Close()
	}
	if r.work != "" {
		os.RemoveAll(r.work)
	}
}

// buildAll solves every build once the builds it needs have finished,
// with the progress of every solve on one display.
func (r *run) buildAll(ctx context.Context) error {
	work, err := os.MkdirTemp("", "bakeplan-apply-")
	if err != nil {
		return err
	}
	r.work = work
	mode := progressui.DisplayMode(r.opts.Progress)
	if mode == "" {
		mode = progressui.AutoMode
	}
	display, err := progressui.NewDisplay(r.opts.Out, mode)
	if err != nil {
		return fmt.Errorf("progress: %w", err)
	}
	status := make(chan *client.SolveStatus)
	displayDone := make(chan struct{})
	go func() {
		defer close(displayDone)
		_, _ = display.UpdateFrom(context.Background(), status)
	}()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.status, r.cancel = status, cancel
	var wg sync.WaitGroup
	for _, q := range r.reqs {
		wg.Go(func() {
			defer close(r.done[q.Step])
			res := r.build(runCtx, q)
			r.mu.Lock()
			r.results[q.Step] = res
			r.mu.Unlock()
		})
	}
	wg.Wait()
	close(status)
	<-displayDone
	return nil
}

// build runs one build: it waits for the builds it needs and a slot, then
// solves, unless the plan found it up to date.
func (r *run) build(ctx context.Context, q *solve.Request) *BuildResult {
	st := r.p.Step(q.Step)
	res := newResult(q, st)
	if why := r.waitForNeeds(ctx, st); why != "" {
		res.Skipped, res.Error = true, why
		return res
	}
	if r.sem != nil && !r.skip[st.ID] {
		select {
		case r.sem <- struct{}{}:
			defer func() { <-r.sem }()
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil {
		res.Skipped, res.Error = true, "skipped: the run was stopped"
		return res
	}
	if r.skip[st.ID] {
		res.UpToDate, res.Digest, res.CopiedFrom = true, st.Build.Status.Digest, st.Build.Status.From
		return res
	}
	q = withPublishedInputs(r.p, q, r.skip)
	for {
		err := r.onNode(ctx, q, res)
		if err == nil {
			return res
		}
		next, why := r.failover(ctx, q, res, err)
		if next == nil {
			r.fail(res, err.Error())
			return res
		}
		res.Moved = append(res.Moved, Move{From: q.Node, To: next.Node, Why: why})
		q = next
	}
}

// onNode solves q on its node, within the node's max_solves.
func (r *run) onNode(ctx context.Context, q *solve.Request, res *BuildResult) error {
	if slot := r.slots[nodeKey(q.Builder, q.Node)]; slot != nil {
		select {
		case slot <- struct{}{}:
			defer func() { <-slot }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	res.Node = q.Node
	return r.solve(ctx, q, res)
}

// fail records a build's failure, which stops the run unless KeepGoing.
func (r *run) fail(res *BuildResult, msg string) {
	res.Error = msg
	if !r.opts.KeepGoing {
		r.cancel()
	}
}

// newResult is a build's result before it runs: its platforms and the
// pinned images it pulls.
func newResult(q *solve.Request, st *plan.Step) *BuildResult {
	res := &BuildResult{Step: q.Step, Target: q.Target}
	for _, pr := range st.Build.Platforms {
		res.Platforms = append(res.Platforms, pr.Platform)
	}
	for _, img := range st.Build.Images {
		if img.Digest != "" {
			if res.Images == nil {
				res.Images = map[string]string{}
			}
			res.Images[img.Ref] = img.Digest
		}
	}
	return res
}

// waitForNeeds waits for the builds st needs; it returns why st must be
// skipped when one did not succeed, else "".
func (r *run) waitForNeeds(ctx context.Context, st *plan.Step) string {
	for _, e := range st.Needs {
		done, isBuild := r.done[e.Step]
		if !isBuild {
			continue
		}
		select {
		case <-done:
		case <-ctx.Done():
		}
		r.mu.Lock()
		dep := r.results[e.Step]
		r.mu.Unlock()
		if dep == nil || dep.Error != "" {
			return "skipped: " + e.Step + " did not succeed"
		}
	}
	return ""
}

// solve sends one build to its builder and records the outcome in res; it
// returns why it failed.
func (r *run) solve(ctx context.Context, q *solve.Request, res *BuildResult) error {
	r.mu.Lock()
	why, gone := r.lost[nodeKey(q.Builder, q.Node)]
	r.mu.Unlock()
	if gone {
		return &lostNode{why: why}
	}
	c, err := r.client(ctx, q.Builder, q.Node)
	if err != nil {
		return err
	}
	ro := solve.RunOptions{Client: c, Status: r.status, Docker: r.docker, Inputs: map[string]solve.Layout{}, StallTimeout: r.opts.StallTimeout}
	r.mu.Lock()
	for k, v := range r.layouts {
		ro.Inputs[k] = v
	}
	r.mu.Unlock()
	if r.layoutFor[q.Step] || r.opts.LayoutsDir != "" {
		base := r.work
		if r.opts.LayoutsDir != "" {
			base = r.opts.LayoutsDir
		}
		ro.LayoutDir = filepath.Join(base, strings.NewReplacer("/", "_", "@", "_").Replace(q.Step))
	}
	res.Started = time.Now()
	out, err := solve.Run(ctx, q, ro)
	res.Finished = time.Now()
	if err != nil {
		return err
	}
	res.Digest, res.Cached, res.Duration, res.Call = out.Digest, out.Cached, out.Duration, out.Call
	if out.Call != nil && out.Call.Status != 0 {
		// A check that found something fails its step, as docker buildx
		// bake --call check exits non-zero.
		return fmt.Errorf("the frontend's %s answered with status %d", out.Call.Name, out.Call.Status)
	}
	if out.Layout != nil && r.opts.LayoutsDir != "" {
		res.Layout = out.Layout.Dir
	}
	if out.Layout != nil {
		r.mu.Lock()
		r.layouts[q.Step] = *out.Layout
		r.mu.Unlock()
	}
	return nil
}

// client is the connection to a node, made on first use for a node a
// build moved to.
func (r *run) client(ctx context.Context, builder, node string) (*client.Client, error) {
	key := nodeKey(builder, node)
	r.mu.Lock()
	c := r.clients[key]
	r.mu.Unlock()
	if c != nil {
		return c, nil
	}
	st := r.p.Step("builder." + builder)
	if st == nil || st.Builder == nil {
		return nil, fmt.Errorf("the plan has no builder %q", builder)
	}
	c, err := endpoint.Connect(ctx, endpoint.ForNode(st.Builder, node, r.opts.Env))
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if had := r.clients[key]; had != nil {
		c.Close()
		return had, nil
	}
	r.clients[key] = c
	return c, nil
}

// saveState records what the builds with local outputs wrote, and each
// build's detailed input record, for the next plan to find them up to
// date. A state that cannot be written only means they build again.
func (r *run) saveState() {
	var built []string
	for _, res := range r.results {
		if res.Error == "" && !res.UpToDate {
			built = append(built, res.Step)
		}
	}
	_ = uptodate.SaveLocal(r.p, r.opts.SpecDir, built, r.opts.Files)
	_ = uptodate.SaveRecords(r.p, built, r.opts.Files)
}

// summary is every build's result in the plan's order, and the failures.
func (r *run) summary() (*Summary, []string) {
	sum := &Summary{}
	var failures []string
	for _, q := range r.reqs {
		res := r.results[q.Step]
		sum.Builds = append(sum.Builds, res)
		if res.Error != "" {
			failures = append(failures, fmt.Sprintf("%s: %s", q.Step, res.Error))
		}
	}
	return sum, failures
}

// usesNode says whether a request runs on the builder's node.
func usesNode(reqs []*solve.Request, builder, node string) bool {
	for _, q := range reqs {
		if q.Builder == builder && q.Node == node {
			return true
		}
	}
	return false
}
