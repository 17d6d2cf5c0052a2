package apply

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/runtime/solve"
	"github.com/moby/buildkit/util/grpcerrors"
	"google.golang.org/grpc/codes"
)

// failover is where a build goes after err on its node: another node of
// the same pool, when err says the node was lost (not the build's own
// failure), the run goes on, and the build has moves left. nil: it fails.
func (r *run) failover(ctx context.Context, q *solve.Request, res *BuildResult, err error) (*solve.Request, string) {
	if q.Node == "" || ctx.Err() != nil || len(res.Moved) >= r.opts.Failover {
		return nil, ""
	}
	why, lost := nodeLost(err)
	if !lost {
		return nil, ""
	}
	st := r.p.Step("builder." + q.Builder)
	if st == nil || st.Builder == nil {
		return nil, ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lost[nodeKey(q.Builder, q.Node)] = why
	// The next node up in the pool's order after the lost one, so that
	// builds leaving one node spread over the others.
	nodes := st.Builder.Nodes
	at := 0
	for i, n := range nodes {
		if n == q.Node {
			at = i
		}
	}
	for k := 1; k < len(nodes); k++ {
		n := nodes[(at+k)%len(nodes)]
		if _, gone := r.lost[nodeKey(q.Builder, n)]; gone {
			continue
		}
		next := *q
		next.Node = n
		return &next, why
	}
	return nil, ""
}

// lostNode is a build's node, found lost before the build was sent.
type lostNode struct{ why string }

func (e *lostNode) Error() string { return "the node was lost: " + e.why }

// nodeLost says whether err is a node dying or no longer answering rather
// than the build failing on it, and how to say so.
func nodeLost(err error) (string, bool) {
	var lost *lostNode
	switch {
	case errors.As(err, &lost):
		return "it did not answer when the run began", true
	case errors.Is(err, solve.ErrStalled):
		return "it sent no progress for the stall timeout", true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the connection to the node ended", true
	case grpcerrors.Code(err) == codes.Unavailable:
		return "the node stopped answering", true
	}
	msg := err.Error()
	for _, s := range []string{"connection reset by peer", "transport is closing", "error reading from server", "connection refused", "broken pipe"} {
		if strings.Contains(msg, s) {
			return "the node was lost (" + s + ")", true
		}
	}
	return "", false
}
