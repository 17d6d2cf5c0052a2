package registry

import (
	"context"
	"sync"
)

// Bounds on the requests in flight to one registry. A run starts at
// startLimit and adapts: each answered request raises the bound a little
// (by one per bound's worth of answers), each throttled, failed or
// unanswered one halves it, so a registry that pushes back gets fewer
// requests at once, never the whole run's at once.
const (
	startLimit = 8
	maxLimit   = 32
)

type hostLimit struct {
	mu       sync.Mutex
	limit    float64
	inFlight int
	wake     chan struct{} // closed when a request ends
}

func newHostLimit() *hostLimit {
	return &hostLimit{limit: startLimit, wake: make(chan struct{})}
}

// acquire waits for a free slot.
func (h *hostLimit) acquire(ctx context.Context) error {
	for {
		h.mu.Lock()
		if h.inFlight < int(h.limit) {
			h.inFlight++
			h.mu.Unlock()
			return nil
		}
		wake := h.wake
		h.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release frees a slot; ok says whether the registry answered well.
func (h *hostLimit) release(ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inFlight--
	if ok {
		h.limit = min(maxLimit, h.limit+1/h.limit)
	} else {
		h.limit = max(1, h.limit/2)
	}
	close(h.wake)
	h.wake = make(chan struct{})
}

// bound is the current bound, for tests.
func (h *hostLimit) bound() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return int(h.limit)
}

// limitFor is host's bound, made on first use.
func (rs *Registries) limitFor(host string) *hostLimit {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	l := rs.limits[host]
	if l == nil {
		l = newHostLimit()
		rs.limits[host] = l
	}
	return l
}
