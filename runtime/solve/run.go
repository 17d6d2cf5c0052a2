package solve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bakeplan/bakeplan/internal/filemode"
	"github.com/bakeplan/bakeplan/internal/home"
	"github.com/containerd/containerd/v2/core/content"
	contentlocal "github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/session/sshforward/sshprovider"
	dockerclient "github.com/moby/moby/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
	"golang.org/x/sync/errgroup"
)

// Layout is a finished build's result as an OCI layout on this machine,
// ready to feed another build as a named context.
type Layout struct {
	Dir    string
	Digest string
}

// Result is what one solve produced.
type Result struct {
	// Digest is the pushed image's digest (an index for several platforms),
	// or the exported layout's when nothing is pushed.
	Digest   string
	Layout   *Layout // set when RunOptions.LayoutDir asked for one
	Cached   bool    // every step came from the cache
	Duration time.Duration
	// Call is the frontend's answer to a subrequest (Request.Call).
	Call *CallResult
}

// CallResult is what the frontend answered a subrequest: its text, as the
// frontend prints it, its JSON, and its status (for check, not 0 when it
// found something).
type CallResult struct {
	Name   string
	Text   string
	JSON   string
	Status int
}

// RunOptions are the run-time inputs of a solve.
type RunOptions struct {
	Client *client.Client
	// Status receives progress; Run never closes it. May be nil.
	Status chan<- *client.SolveStatus
	// Inputs are the layouts of the builds named in TargetContexts, by step.
	Inputs map[string]Layout
	// LayoutDir, when set, also exports the result there as an OCI layout,
	// for builds that use this one as a named context.
	LayoutDir string
	// Docker loads images for exports with Load.
	Docker *dockerclient.Client
	// StallTimeout, when set, gives up a solve whose builder sends no
	// progress for that long: the node is taken to have stopped answering
	// (ErrStalled). A step that runs longer than it in silence trips it too.
	StallTimeout time.Duration
}

// ErrStalled is a solve given up because its builder sent no progress for
// RunOptions.StallTimeout.
var ErrStalled = errors.New("the builder sent no progress")

// Run solves the request. Files it writes (OCI tarballs) appear under their
// final names only when the solve succeeded.
func Run(ctx context.Context, req *Request, ro RunOptions) (*Result, error) {
	start := time.Now()
	opt := client.SolveOpt{
		Frontend:      req.Frontend,
		FrontendAttrs: maps.Clone(req.FrontendAttrs),
		LocalMounts:   map[string]fsutil.FS{},
		OCIStores:     map[string]content.Store{},
		// Privileges the spec declared; the builder must allow them too.
		AllowedEntitlements: req.Entitlements,
		SharedKey:           req.SharedKey,
	}
	if opt.FrontendAttrs == nil {
		opt.FrontendAttrs = map[string]string{}
	}
	if err := targetInputs(req, ro, &opt); err != nil {
		return nil, err
	}
	cleanup, err := localMounts(req, &opt)
	defer cleanup()
	if err != nil {
		return nil, err
	}
	ex := &exports{}
	defer ex.abandon()
	if err := ex.add(ctx, req, ro, &opt); err != nil {
		return nil, err
	}
	for _, c := range req.CacheImports {
		opt.CacheImports = append(opt.CacheImports, client.CacheOptionsEntry{Type: c.Type, Attrs: c.Attrs})
	}
	for _, c := range req.CacheExports {
		opt.CacheExports = append(opt.CacheExports, client.CacheOptionsEntry{Type: c.Type, Attrs: c.Attrs})
	}
	if opt.Session, err = sessionOf(req); err != nil {
		return nil, err
	}

	ch := make(chan *client.SolveStatus)
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	cached, done := forward(ctx, ch, ro.Status, watchdog(ctx, stop, ro.StallTimeout))
	var (
		resp *client.SolveResponse
		call *CallResult
	)
	if req.Call != "" {
		resp, call, err = runCall(ctx, ro.Client, req.Call, opt, ch)
	} else {
		resp, err = ro.Client.Solve(ctx, nil, opt, ch)
	}
	<-done
	if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
		err = cause
	}
	if err = ex.finish(err); err != nil {
		return nil, fmt.Errorf("%s: %w", req.Step, err)
	}
	res := &Result{Digest: resp.ExporterResponse["containerimage.digest"], Cached: *cached, Duration: time.Since(start), Call: call}
	if ro.LayoutDir != "" {
		d, err := layoutDigest(ro.LayoutDir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", req.Step, err)
		}
		res.Layout = &Layout{Dir: ro.LayoutDir, Digest: d}
		if res.Digest == "" {
			res.Digest = d
		}
	}
	return res, nil
}

// targetInputs feeds each target context the OCI layout another build of
// the run exported, as a content store.
func targetInputs(req *Request, ro RunOptions, opt *client.SolveOpt) error {
	for i, name := range slices.Sorted(maps.Keys(req.TargetContexts)) {
		step := req.TargetContexts[name]
		in, ok := ro.Inputs[step]
		if !ok {
			return fmt.Errorf("%s: the result of %s is not available", req.Step, step)
		}
		store, err := contentlocal.NewStore(in.Dir)
		if err != nil {
			return fmt.Errorf("%s: opening the layout of %s: %w", req.Step, step, err)
		}
		storeID := fmt.Sprintf("bakeplan-input-%d", i)
		opt.OCIStores[storeID] = store
		opt.FrontendAttrs["context:"+name] = "oci-layout://" + storeID + "@" + in.Digest
	}
	return nil
}

// localMounts are the local directories the session serves (a release's
// with their times clamped), and an inline Dockerfile written to a
// temporary directory, which the returned function removes.
func localMounts(req *Request, opt *client.SolveOpt) (func(), error) {
	cleanup := func() {}
	for name, dir := range req.LocalDirs {
		fs, err := fsutil.NewFS(dir)
		if err != nil {
			return cleanup, fmt.Errorf("%s: local %s: %w", req.Step, name, err)
		}
		if fs, err = clampTimes(fs, req.ClampMtime); err != nil {
			return cleanup, fmt.Errorf("%s: local %s: %w", req.Step, name, err)
		}
		opt.LocalMounts[name] = fs
	}
	if req.InlineDockerfile == "" {
		return cleanup, nil
	}
	dir, err := os.MkdirTemp("", "bakeplan-dockerfile-")
	if err != nil {
		return cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(req.InlineDockerfile), 0o644); err != nil {
		return cleanup, err
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return cleanup, err
	}
	opt.LocalMounts["dockerfile"] = fs
	return cleanup, nil
}

// exports are a solve's exports in flight: tarballs go to temporary files
// renamed on success, loads to the Docker Engine through a pipe.
type exports struct {
	renames     [][2]string
	loads       errgroup.Group
	loadWriters []*io.PipeWriter
}

// add adds the request's exports (and the OCI layout another build reads)
// to opt.
func (x *exports) add(ctx context.Context, req *Request, ro RunOptions, opt *client.SolveOpt) error {
	for _, ex := range req.Exports {
		e := client.ExportEntry{Type: ex.Type, Attrs: maps.Clone(ex.Attrs)}
		if e.Attrs == nil {
			e.Attrs = map[string]string{}
		}
		switch {
		case ex.Load:
			if ro.Docker == nil {
				return fmt.Errorf("%s: loading into Docker needs a Docker Engine", req.Step)
			}
			pr, pw := io.Pipe()
			x.loadWriters = append(x.loadWriters, pw)
			e.Output = func(map[string]string) (io.WriteCloser, error) { return pw, nil }
			docker := ro.Docker
			x.loads.Go(func() error {
				res, err := docker.ImageLoad(ctx, pr)
				if err != nil {
					pr.CloseWithError(err)
					return fmt.Errorf("loading into Docker: %w", err)
				}
				defer res.Close()
				_, err = io.Copy(io.Discard, res)
				return err
			})
		case ex.Type == "oci" || ex.Type == "docker":
			if err := os.MkdirAll(filepath.Dir(ex.Dest), 0o755); err != nil {
				return err
			}
			tmp := ex.Dest + ".bakeplan-partial"
			x.renames = append(x.renames, [2]string{tmp, ex.Dest})
			e.Output = func(map[string]string) (io.WriteCloser, error) { return os.Create(tmp) }
		case ex.Type == "local":
			e.OutputDir = ex.Dest
		}
		opt.Exports = append(opt.Exports, e)
	}
	if ro.LayoutDir != "" {
		attrs := map[string]string{"tar": "false"}
		maps.Copy(attrs, req.LayoutAttrs)
		opt.Exports = append(opt.Exports, client.ExportEntry{Type: client.ExporterOCI, Attrs: attrs, OutputDir: ro.LayoutDir})
	}
	return nil
}

// finish ends the exports after the solve returned solveErr: the loads
// are waited for and the tarballs put in place, only when all succeeded.
func (x *exports) finish(solveErr error) error {
	for _, w := range x.loadWriters {
		w.Close()
	}
	x.loadWriters = nil
	err := solveErr
	if lerr := x.loads.Wait(); err == nil && lerr != nil {
		err = lerr
	}
	if err != nil {
		return err
	}
	for _, r := range x.renames {
		if err := os.Rename(r[0], r[1]); err != nil {
			return err
		}
	}
	x.renames = nil
	return nil
}

// abandon stops loads still open and removes partial tarballs, when the
// solve did not finish.
func (x *exports) abandon() {
	for _, w := range x.loadWriters {
		w.CloseWithError(errors.New("solve ended"))
	}
	for _, r := range x.renames {
		os.Remove(r[0])
	}
}

// sessionOf serves registry credentials, secrets and SSH from this
// process; their values never leave it except to BuildKit.
func sessionOf(req *Request) ([]session.Attachable, error) {
	dockerConfig := config.LoadDefaultConfigFile(io.Discard)
	out := []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
	})}
	if len(req.Secrets) > 0 {
		var src []secretsprovider.Source
		for _, s := range req.Secrets {
			src = append(src, secretsprovider.Source{ID: s.ID, Env: s.Env, FilePath: home.Expand(s.File)})
		}
		store, err := secretsprovider.NewStore(src)
		if err != nil {
			return nil, fmt.Errorf("%s: secrets: %w", req.Step, err)
		}
		out = append(out, secretsprovider.NewSecretProvider(store))
	}
	if len(req.SSH) > 0 {
		var confs []sshprovider.AgentConfig
		for _, s := range req.SSH {
			confs = append(confs, sshprovider.AgentConfig{ID: s.ID, Paths: s.Paths})
		}
		sp, err := sshprovider.NewSSHAgentProvider(confs)
		if err != nil {
			return nil, fmt.Errorf("%s: ssh: %w", req.Step, err)
		}
		out = append(out, sp)
	}
	return out, nil
}

// forward passes a solve's progress to the shared display and notes
// whether any Dockerfile step was built rather than cached; cached is
// final once done is closed.
func forward(ctx context.Context, ch <-chan *client.SolveStatus, display chan<- *client.SolveStatus, alive func()) (cached *bool, done <-chan struct{}) {
	c, d := true, make(chan struct{})
	go func() {
		defer close(d)
		for st := range ch {
			alive()
			for _, v := range st.Vertexes {
				if v.Completed != nil && !v.Cached && isDockerfileStep(v.Name) {
					c = false
				}
			}
			if display != nil {
				select {
				case display <- st:
				case <-ctx.Done():
				}
			}
		}
	}()
	return &c, d
}

// watchdog cancels ctx with ErrStalled when alive is not called for
// timeout; a timeout of 0 never does. It stops with ctx.
func watchdog(ctx context.Context, stop context.CancelCauseFunc, timeout time.Duration) (alive func()) {
	if timeout <= 0 {
		return func() {}
	}
	t := time.AfterFunc(timeout, func() { stop(fmt.Errorf("%w for %s", ErrStalled, timeout)) })
	context.AfterFunc(ctx, func() { t.Stop() })
	return func() { t.Reset(timeout) }
}

// runCall asks the frontend a subrequest through the gateway, as buildx's
// --call does: the frontend's answer comes back as result metadata, which
// a plain solve does not return.
func runCall(ctx context.Context, c *client.Client, name string, opt client.SolveOpt, ch chan *client.SolveStatus) (*client.SolveResponse, *CallResult, error) {
	frontend, attrs := opt.Frontend, opt.FrontendAttrs
	opt.Frontend, opt.FrontendAttrs = "", nil
	var meta map[string][]byte
	resp, err := c.Build(ctx, opt, "bakeplan", func(ctx context.Context, gc gateway.Client) (*gateway.Result, error) {
		res, err := gc.Solve(ctx, gateway.SolveRequest{Frontend: frontend, FrontendOpt: attrs})
		if err != nil {
			return nil, err
		}
		meta = res.Metadata
		return gateway.NewResult(), nil
	}, ch)
	if err != nil {
		return nil, nil, err
	}
	out := &CallResult{Name: name, Text: string(meta["result.txt"]), JSON: string(meta["result.json"])}
	if s := string(meta["result.statuscode"]); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, nil, fmt.Errorf("the frontend answered %s with the status %q", name, s)
		}
		out.Status = n
	}
	return resp, out, nil
}

// isDockerfileStep tells the vertices of Dockerfile instructions that do
// work, such as "[linux/arm64 2/3] RUN make", from metadata loads, image
// resolution (FROM), exports and pushes, which are never reported cached.
func isDockerfileStep(name string) bool {
	open, rest, ok := strings.Cut(name, "] ")
	if !ok || !strings.HasPrefix(open, "[") || !strings.Contains(open, "/") || strings.HasPrefix(rest, "FROM ") {
		return false
	}
	// The bracket ends in n/m, the step number of the stage.
	fields := strings.Fields(open[1:])
	last := fields[len(fields)-1]
	n, m, ok := strings.Cut(last, "/")
	return ok && isDigits(n) && isDigits(m)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func layoutDigest(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ocispecs.ImageIndexFile))
	if err != nil {
		return "", fmt.Errorf("reading the exported layout: %w", err)
	}
	var idx ocispecs.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return "", fmt.Errorf("reading the exported layout: %w", err)
	}
	if len(idx.Manifests) == 0 {
		return "", errors.New("the exported layout is empty")
	}
	return idx.Manifests[len(idx.Manifests)-1].Digest.String(), nil
}

// CheckSecrets reports every secret of the requests that the build could
// not read: an environment variable that is not set, a file that is missing
// or not a regular file. BuildKit finds out only when a RUN mounts the
// secret, deep into the build; apply asks before anything is solved.
func CheckSecrets(reqs []*Request, lookupEnv func(string) (string, bool)) error {
	var problems []string
	for _, r := range reqs {
		for _, s := range r.Secrets {
			switch {
			case s.Env != "":
				if _, ok := lookupEnv(s.Env); !ok {
					problems = append(problems, fmt.Sprintf("%s: secret %q reads the environment variable %s, which is not set", r.Step, s.ID, s.Env))
				}
			case s.File != "":
				st, err := os.Stat(home.Expand(s.File))
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: secret %q reads %s: %v", r.Step, s.ID, s.File, errors.Unwrap(err)))
				} else if !st.Mode().IsRegular() {
					problems = append(problems, fmt.Sprintf("%s: secret %q reads %s, which is not a regular file", r.Step, s.ID, s.File))
				}
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d secret(s) cannot be read; nothing was built:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

// clampTimes sends a release build's local files the same from every
// checkout of a commit (epoch 0 sends fs as it is):
//   - every modification time is epoch (fsutil's filter may rewrite a
//     stat on its way to BuildKit). BuildKit's rewrite-timestamp only
//     clamps the times in exported layers; a RUN would still see each
//     checkout's own. Set rather than clamped: git records no times, so a
//     time below the epoch (a restored cache, git-restore-mtime, an
//     unpacked archive) is as much an accident of the checkout as one
//     above it.
//   - permission bits are what git records: 0755 for a directory or a
//     file its owner may run, else 0644, whatever the umask of the
//     checkout; owners are root's.
func clampTimes(fs fsutil.FS, epoch int64) (fsutil.FS, error) {
	if epoch == 0 {
		return fs, nil
	}
	at := time.Unix(epoch, 0).UnixNano()
	return fsutil.NewFilterFS(fs, &fsutil.FilterOpt{Map: func(_ string, st *fstypes.Stat) fsutil.MapResult {
		st.ModTime = at
		st.Mode = uint32(filemode.Git(os.FileMode(st.Mode)))
		st.Uid, st.Gid = 0, 0
		return fsutil.MapResultKeep
	}})
}
