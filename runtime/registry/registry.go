// Package registry reaches container registries the way a plan declares
// them, for everything bakeplan itself sends (probes, tag writes, tag
// deletes; BuildKit's pushes use BuildKit's configuration):
//
//   - plain HTTP only for a registry declared insecure;
//   - a loopback registry that declares no certificates is tried over TLS
//     first and over plain HTTP when it answers so, as Docker does, so that
//     both a plain test registry and a TLS one on 127.0.0.1 work;
//   - a declared ca_cert is trusted besides the system's roots, and a
//     declared cert and key are presented as the client certificate;
//   - credentials come from the Docker config (DOCKER_CONFIG), as docker
//     login wrote them.
package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/bakeplan/bakeplan/internal/home"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
)

// Registries are the registries a plan declares, by host.
type Registries struct {
	decl map[string]*plan.Registry
	cfg  *configfile.ConfigFile

	mu     sync.Mutex
	hosts  map[string]docker.RegistryHost
	limits map[string]*hostLimit
}

// FromPlan reads the plan's registry steps and the Docker config.
func FromPlan(p *plan.Plan) *Registries {
	rs := &Registries{decl: map[string]*plan.Registry{}, hosts: map[string]docker.RegistryHost{}, limits: map[string]*hostLimit{}}
	for _, st := range p.Steps {
		if st.Registry != nil {
			rs.decl[st.Registry.Host] = st.Registry
		}
	}
	rs.cfg = config.LoadDefaultConfigFile(io.Discard)
	return rs
}

// Hosts is containerd's view of the registries, for its resolver.
func (rs *Registries) Hosts() docker.RegistryHosts {
	return func(host string) ([]docker.RegistryHost, error) {
		h, err := rs.Host(host)
		if err != nil {
			return nil, err
		}
		return []docker.RegistryHost{h}, nil
	}
}

// Host returns how to reach host: its scheme, HTTP client and authorizer.
func (rs *Registries) Host(host string) (docker.RegistryHost, error) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if h, ok := rs.hosts[host]; ok {
		return h, nil
	}
	scheme, rt, err := rs.transport(host)
	if err != nil {
		return docker.RegistryHost{}, err
	}
	client := &http.Client{Transport: rt}
	auth := docker.NewDockerAuthorizer(docker.WithAuthClient(client), docker.WithAuthCreds(rs.creds))
	h := docker.RegistryHost{
		Client:       client,
		Authorizer:   auth,
		Host:         host,
		Scheme:       scheme,
		Path:         "/v2",
		Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve | docker.HostCapabilityPush | docker.HostCapabilityReferrers,
	}
	if host == "docker.io" {
		h.Host = "registry-1.docker.io"
	}
	rs.hosts[host] = h
	return h, nil
}

func (rs *Registries) transport(host string) (scheme string, rt http.RoundTripper, err error) {
	d := rs.decl[host]
	if d != nil && d.Insecure {
		return "http", deadlines{newTransport(nil)}, nil
	}
	var tlsConfig *tls.Config
	if d != nil && d.TLS != nil {
		if tlsConfig, err = clientTLS(d); err != nil {
			return "", nil, err
		}
	}
	tr := newTransport(tlsConfig)
	if tlsConfig == nil && isLoopback(host) {
		return "https", deadlines{docker.NewHTTPFallback(tr)}, nil
	}
	return "https", deadlines{tr}, nil
}

// newTransport is containerd's transport for registries, keeping more
// connections to one host open: a run may write thousands of tags there.
func newTransport(c *tls.Config) *http.Transport {
	tr := docker.DefaultHTTPTransport(c)
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 64, 32
	return tr
}

// clientTLS builds the TLS configuration a registry declares.
func clientTLS(r *plan.Registry) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if r.TLS.CACert != "" {
		pem, err := os.ReadFile(home.Expand(r.TLS.CACert))
		if err != nil {
			return nil, fmt.Errorf("registry.%s: ca_cert: %w", r.Name, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("registry.%s: ca_cert %s holds no PEM certificate", r.Name, r.TLS.CACert)
		}
		c.RootCAs = pool
	}
	if r.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(home.Expand(r.TLS.Cert), home.Expand(r.TLS.Key))
		if err != nil {
			return nil, fmt.Errorf("registry.%s: client certificate: %w", r.Name, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// creds reads a registry's credentials from the Docker config.
func (rs *Registries) creds(host string) (string, string, error) {
	if host == "registry-1.docker.io" {
		host = "https://index.docker.io/v1/"
	}
	ac, err := rs.cfg.GetAuthConfig(host)
	if err != nil {
		return "", "", err
	}
	if ac.IdentityToken != "" {
		return "", ac.IdentityToken, nil
	}
	return ac.Username, ac.Password, nil
}

// HasCredentials says whether the Docker config holds credentials for host.
func (rs *Registries) HasCredentials(host string) bool {
	u, p, err := rs.creds(host)
	return err == nil && (u != "" || p != "")
}

// Do sends req to host with its credentials: when the registry answers 401,
// the authorizer reads its challenge and the request is sent once more.
// A request answered 429 or 5xx, or cut off before an answer, is sent
// again as the context's Timeouts allow (newReq makes each attempt's
// request); the last answer is returned, so the caller names its status.
// scope is a token scope such as "repository:NAME:pull,push", or "".
func (rs *Registries) Do(ctx context.Context, host, scope string, newReq func(base string) (*http.Request, error)) (*http.Response, error) {
	h, err := rs.Host(host)
	if err != nil {
		return nil, err
	}
	if scope != "" {
		ctx = docker.WithScope(ctx, scope)
	}
	t := TimeoutsFrom(ctx)
	base := h.Scheme + "://" + h.Host + h.Path
	authorized := false
	for attempt := 1; ; attempt++ {
		req, err := newReq(base)
		if err != nil {
			return nil, err
		}
		req = req.WithContext(ctx)
		if err := h.Authorizer.Authorize(ctx, req); err != nil {
			return nil, err
		}
		resp, err := rs.send(ctx, host, h.Client, req)
		switch {
		case err != nil && (ctx.Err() != nil || attempt > t.Retries || stopped(ctx)):
			return nil, err
		case err != nil:
		case resp.StatusCode == http.StatusUnauthorized && !authorized && rs.HasCredentials(host):
			authorized = true
			err := h.Authorizer.AddResponses(ctx, []*http.Response{resp})
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			continue
		case !retryable(resp.StatusCode) || attempt > t.Retries || stopped(ctx):
			return resp, nil
		default:
			// Drained, so the connection can be used again.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if err := sleep(ctx, wait(resp, attempt, t.MaxWait)); err != nil {
			if resp != nil {
				return nil, fmt.Errorf("the registry answered %s; %w", resp.Status, err)
			}
			return nil, err
		}
	}
}

// send sends req within host's bound on requests in flight; the slot is
// held until the response's body is closed.
func (rs *Registries) send(ctx context.Context, host string, c *http.Client, req *http.Request) (*http.Response, error) {
	l := rs.limitFor(host)
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		l.release(false)
		return nil, err
	}
	ok := !retryable(resp.StatusCode)
	resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: func() { l.release(ok) }}
	return resp, nil
}

type releaseOnClose struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (r *releaseOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.once.Do(r.release)
	return err
}

func isLoopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.Trim(host, "[]")
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
