package endpoint

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/moby/buildkit/client"
	"github.com/moby/moby/api/pkg/stdcopy"
	dockerclient "github.com/moby/moby/client"
)

// connectContainer reaches the buildkitd in a Docker container the way
// buildx's docker-container driver does: buildctl dial-stdio runs in the
// container through the Docker API (an exec), and its standard streams
// carry the connection. No docker CLI is needed; host says which engine.
func connectContainer(ctx context.Context, host, container string) (*client.Client, error) {
	api, err := dockerclient.New(dockerclient.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return client.New(ctx, "", client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return dialStdio(ctx, api, container)
	}))
}

// dialStdio starts buildctl dial-stdio in the container and returns its
// standard input and output as a connection. Without a terminal the engine
// multiplexes output and errors on one stream: output is read apart, and
// the errors are kept to say why when the exec ends early.
func dialStdio(ctx context.Context, api *dockerclient.Client, container string) (net.Conn, error) {
	ex, err := api.ExecCreate(ctx, container, dockerclient.ExecCreateOptions{
		AttachStdin: true, AttachStdout: true, AttachStderr: true,
		Cmd: []string{"buildctl", "dial-stdio"},
	})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", container, err)
	}
	att, err := api.ExecAttach(ctx, ex.ID, dockerclient.ExecAttachOptions{})
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", container, err)
	}
	pr, pw := io.Pipe()
	c := &stdioConn{Conn: att.Conn, out: pr}
	go func() {
		_, err := stdcopy.StdCopy(pw, &c.errs, att.Reader)
		if err == nil && c.errs.Len() > 0 {
			err = fmt.Errorf("buildctl dial-stdio in container %s: %s", container, bytes.TrimSpace(c.errs.Bytes()))
		}
		pw.CloseWithError(err)
	}()
	return c, nil
}

// stdioConn reads the demultiplexed output of an exec and writes to its
// standard input.
type stdioConn struct {
	net.Conn
	out  *io.PipeReader
	errs syncBuffer
}

func (c *stdioConn) Read(p []byte) (int, error) { return c.out.Read(p) }

func (c *stdioConn) Close() error {
	c.out.Close()
	return c.Conn.Close()
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 4<<10 {
		return len(p), nil // enough to say why; the rest is dropped
	}
	return s.b.Write(p)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}
