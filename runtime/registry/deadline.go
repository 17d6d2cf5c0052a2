package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Timeouts bound every request bakeplan sends a registry, so that a
// registry that stops answering fails the run instead of hanging it.
type Timeouts struct {
	// Header bounds the wait for the response's headers once a small
	// request (no body, or a manifest) is sent.
	Header time.Duration
	// Idle bounds the wait between two reads of the response's body.
	Idle time.Duration
	// Retries is how many times a request answered 429 or 5xx, or cut off
	// before any answer, is sent again (waiting as Retry-After asks, or
	// backing off).
	Retries int
	// MaxWait caps one wait between attempts, whatever Retry-After asks.
	MaxWait time.Duration
}

// DefaultTimeouts are the bounds a run uses unless its context says
// otherwise.
func DefaultTimeouts() Timeouts {
	return Timeouts{Header: 30 * time.Second, Idle: 30 * time.Second, Retries: 4, MaxWait: 30 * time.Second}
}

type timeoutsKey struct{}

type stopKey struct{}

// StopRetrying makes the requests sent under ctx make no new attempt once
// stop is closed: a request already sent still runs to its end. Tag writes
// use it so that an interrupt lets the writes in flight finish (a write
// cut off could land after a rollback looked) without starting more.
func StopRetrying(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

func stopped(ctx context.Context) bool {
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	if stop == nil {
		return false
	}
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// WithTimeouts makes the requests sent under ctx use t.
func WithTimeouts(ctx context.Context, t Timeouts) context.Context {
	return context.WithValue(ctx, timeoutsKey{}, t)
}

// TimeoutsFrom are the bounds requests sent under ctx use.
func TimeoutsFrom(ctx context.Context) Timeouts {
	if t, ok := ctx.Value(timeoutsKey{}).(Timeouts); ok {
		return t
	}
	return DefaultTimeouts()
}

// errStalled marks a request cut off by a timeout here, not by the caller.
var errStalled = errors.New("stalled")

// bodyLimit is the size of request above which the header deadline does
// not apply: sending the body itself may take long (a layer).
const bodyLimit = 4 << 20

// deadlines is a RoundTripper that enforces Timeouts on every request.
type deadlines struct{ rt http.RoundTripper }

func (d deadlines) RoundTrip(req *http.Request) (*http.Response, error) {
	t := TimeoutsFrom(req.Context())
	ctx, cancel := context.WithCancelCause(req.Context())
	req = req.WithContext(ctx)
	var timer *time.Timer
	if t.Header > 0 && (req.Body == nil || (req.ContentLength >= 0 && req.ContentLength <= bodyLimit)) {
		timer = time.AfterFunc(t.Header, func() {
			cancel(fmt.Errorf("%w: %s %s: no answer within %s", errStalled, req.Method, req.URL.Redacted(), t.Header))
		})
	}
	resp, err := d.rt.RoundTrip(req)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errStalled) {
			err = cause
		}
		cancel(nil)
		return nil, err
	}
	if t.Idle > 0 {
		resp.Body = newIdleBody(ctx, resp.Body, t.Idle, cancel, req)
	} else {
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	}
	return resp, nil
}

// idleBody fails a read that waits longer than idle for the registry.
type idleBody struct {
	io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
	timer  *time.Timer
}

func newIdleBody(ctx context.Context, rc io.ReadCloser, idle time.Duration, cancel context.CancelCauseFunc, req *http.Request) *idleBody {
	b := &idleBody{ReadCloser: rc, ctx: ctx, cancel: cancel, idle: idle}
	b.timer = time.AfterFunc(idle, func() {
		cancel(fmt.Errorf("%w: %s %s: the registry sent nothing for %s", errStalled, req.Method, req.URL.Redacted(), idle))
	})
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); errors.Is(cause, errStalled) {
			err = cause
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel(nil)
	return err
}

// retryable says whether an answer is worth sending the request again
// for: throttling and the server errors a proxy or a busy registry gives.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// wait is how long to wait before attempt (from 1): what Retry-After
// asks, or an exponential backoff with jitter, capped at limit.
func wait(resp *http.Response, attempt int, limit time.Duration) time.Duration {
	d := time.Duration(250<<min(attempt-1, 8)) * time.Millisecond
	d += time.Duration(rand.Int64N(int64(d)/2 + 1))
	if resp != nil {
		if v := resp.Header.Get("Retry-After"); v != "" {
			if s, err := strconv.Atoi(v); err == nil && s >= 0 {
				d = time.Duration(s) * time.Second
			} else if at, err := http.ParseTime(v); err == nil {
				d = time.Until(at)
			}
		}
	}
	return max(0, min(d, limit))
}

// sleep waits d, or until ctx is done or says to stop retrying.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return errors.New("not sent again: the run was interrupted")
	}
}
