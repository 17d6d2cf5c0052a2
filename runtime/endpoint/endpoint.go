// Package endpoint connects to a builder node: a standalone BuildKit daemon
// (unix://, tcp://, or through BuildKit's connection helpers for
// docker-container://, kube-pod:// and ssh://) or the BuildKit inside a
// Docker Engine, reached through the Docker API's /grpc and /session
// upgrades the way buildx's docker driver does.
package endpoint

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/bakeplan/bakeplan/internal/home"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/moby/buildkit/client"

	// Connection helpers register their schemes with BuildKit's client;
	// docker-container:// is dialled here, through the Docker API.
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
	dockerclient "github.com/moby/moby/client"
)

// Env is what endpoint resolution reads from the environment; passing it in
// keeps tests free of process-wide state.
type Env struct {
	BuildkitHost string // BUILDKIT_HOST
	DockerHost   string // DOCKER_HOST; "" means Docker's default socket
}

// Resolved says how an endpoint is reached, for error messages and dry runs.
type Resolved struct {
	Declared string // as the plan has it
	Address  string // what is dialled
	Docker   bool   // through the Docker API
	TLS      *TLS   // client TLS for tcp://; nil for none
	// Container is, for docker-container://NAME, the container, reached
	// through the Docker Engine at DockerHost.
	Container, DockerHost string
}

// TLS is the client side of a TLS connection to BuildKit: file paths.
type TLS struct {
	CACert, Cert, Key, ServerName string
}

func (r Resolved) String() string {
	if r.Declared == r.Address {
		return r.Address
	}
	return fmt.Sprintf("%s (%s)", r.Declared, r.Address)
}

// Resolve turns a declared endpoint into the address to dial: "auto" is
// BUILDKIT_HOST when set, else Docker.
func Resolve(declared string, env Env) Resolved {
	switch declared {
	case "auto", "":
		if env.BuildkitHost != "" {
			return Resolved{Declared: "auto", Address: env.BuildkitHost}
		}
		return Resolved{Declared: "auto", Address: dockerAddress(env), Docker: true}
	case "docker":
		return Resolved{Declared: declared, Address: dockerAddress(env), Docker: true}
	}
	if name, ok := strings.CutPrefix(declared, "docker-container://"); ok {
		name, _, _ = strings.Cut(name, "?")
		host := env.DockerHost
		if host == "" {
			host = dockerclient.DefaultDockerHost
		}
		return Resolved{Declared: declared, Address: declared, Container: name, DockerHost: host}
	}
	return Resolved{Declared: declared, Address: declared}
}

func dockerAddress(env Env) string {
	if env.DockerHost != "" {
		return "docker+" + env.DockerHost
	}
	return "docker+" + dockerclient.DefaultDockerHost
}

// ForNode resolves one node of a builder, with its TLS files for tcp://:
// node is one of a pool's nodes, or "" for the builder's one endpoint.
func ForNode(b *plan.Builder, node string, env Env) Resolved {
	if node == "" {
		node = b.Endpoint
	}
	r := Resolve(node, env)
	if b.TLS != nil {
		r.TLS = &TLS{CACert: b.TLS.CACert, Cert: b.TLS.Cert, Key: b.TLS.Key, ServerName: b.TLS.ServerName}
	}
	return r
}

// Nodes are a builder's nodes: a pool's, or its one endpoint ("").
func Nodes(b *plan.Builder) []string {
	if len(b.Nodes) > 0 {
		return b.Nodes
	}
	return []string{""}
}

// Connect dials the endpoint and checks that BuildKit answers, so that an
// unreachable builder fails before any solve starts.
func Connect(ctx context.Context, r Resolved) (*client.Client, error) {
	c, _, err := Dial(ctx, r)
	return c, err
}

// Dial is Connect that also returns what BuildKit answered about itself.
func Dial(ctx context.Context, r Resolved) (*client.Client, *client.Info, error) {
	var (
		c   *client.Client
		err error
	)
	switch {
	case r.Docker:
		c, err = connectDocker(ctx, strings.TrimPrefix(r.Address, "docker+"))
	case r.Container != "":
		c, err = connectContainer(ctx, r.DockerHost, r.Container)
	default:
		c, err = client.New(ctx, r.Address, tlsOptions(r.TLS)...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("builder at %s: %w", r, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	info, err := c.Info(pctx)
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("builder at %s does not answer: %w", r, err)
	}
	return c, info, nil
}

func tlsOptions(t *TLS) []client.ClientOpt {
	if t == nil {
		return nil
	}
	var opts []client.ClientOpt
	if t.CACert != "" {
		opts = append(opts, client.WithServerConfig(t.ServerName, home.Expand(t.CACert)))
	} else {
		opts = append(opts, client.WithServerConfigSystem(t.ServerName))
	}
	if t.Cert != "" {
		opts = append(opts, client.WithCredentials(home.Expand(t.Cert), home.Expand(t.Key)))
	}
	return opts
}

func connectDocker(ctx context.Context, host string) (*client.Client, error) {
	api, err := dockerclient.New(dockerclient.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return client.New(ctx, "",
		client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return api.DialHijack(ctx, "/grpc", "h2c", nil)
		}),
		client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return api.DialHijack(ctx, "/session", proto, meta)
		}),
	)
}
