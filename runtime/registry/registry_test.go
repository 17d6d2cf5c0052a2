package registry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/plan"
)

// serve starts a registry stand-in whose handler answers the n-th request
// (from 1), and the Registries that reach it over plain HTTP.
func serve(t *testing.T, h func(n int, w http.ResponseWriter, r *http.Request)) (*Registries, string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(int(n.Add(1)), w, r) }))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	p := &plan.Plan{Steps: []*plan.Step{{ID: "registry.r", Registry: &plan.Registry{Name: "r", Host: host, Insecure: true}}}}
	return FromPlan(p), host, &n
}

func get(base string) (*http.Request, error) {
	return http.NewRequest(http.MethodGet, base+"/app/manifests/1", nil)
}

// TestBoundedRequests: throttling and server errors are retried as
// Retry-After asks, then the last status is returned; a registry that
// sends no headers, or stops in the middle of a body, fails the request
// with a message that says so, within the bounds.
func TestBoundedRequests(t *testing.T) {
	short := Timeouts{Header: 300 * time.Millisecond, Idle: 300 * time.Millisecond, Retries: 2, MaxWait: 2 * time.Second}
	ctx := WithTimeouts(context.Background(), short)
	t.Run("429 then 200", func(t *testing.T) {
		regs, host, n := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			io.WriteString(w, "{}")
		})
		start := time.Now()
		resp, err := regs.Do(ctx, host, "", get)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n.Load() != 2 {
			t.Errorf("status %d after %d requests", resp.StatusCode, n.Load())
		}
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("the retry came after %s; Retry-After asked for 1s", waited)
		}
	})
	t.Run("503 every time", func(t *testing.T) {
		regs, host, n := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		resp, err := regs.Do(ctx, host, "", get)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || n.Load() != int32(short.Retries+1) {
			t.Errorf("status %d after %d requests, want 503 after %d", resp.StatusCode, n.Load(), short.Retries+1)
		}
	})
	t.Run("404 is not retried", func(t *testing.T) {
		regs, host, n := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
		resp, err := regs.Do(ctx, host, "", get)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if n.Load() != 1 {
			t.Errorf("%d requests", n.Load())
		}
	})
	t.Run("no headers", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		regs, host, _ := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		start := time.Now()
		_, err := regs.Do(ctx, host, "", get)
		if err == nil || !strings.Contains(err.Error(), "no answer within 300ms") {
			t.Fatalf("err = %v", err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("took %s", took)
		}
	})
	t.Run("stalled body", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		regs, host, _ := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "{")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		resp, err := regs.Do(ctx, host, "", get)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		if err == nil || !strings.Contains(err.Error(), "the registry sent nothing for 300ms") {
			t.Fatalf("reading a stalled body: %v", err)
		}
	})
	t.Run("the caller's cancel is not a timeout", func(t *testing.T) {
		regs, host, _ := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := regs.Do(c, host, "", get)
		if err == nil || strings.Contains(err.Error(), "no answer") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestRequestsInFlightAreBounded: a hundred requests at once reach the
// registry at most maxLimit at a time, and answers of 503 lower the bound.
func TestRequestsInFlightAreBounded(t *testing.T) {
	var inFlight, peak atomic.Int32
	failing := atomic.Bool{}
	regs, host, _ := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	ctx := WithTimeouts(context.Background(), Timeouts{Header: 5 * time.Second, Idle: 5 * time.Second})
	burst := func() {
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if resp, err := regs.Do(ctx, host, "", get); err == nil {
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
	}
	burst()
	if p := peak.Load(); p > maxLimit || p < 2 {
		t.Errorf("%d requests in flight at once; the bound is %d", p, maxLimit)
	}
	before := regs.limitFor(host).bound()
	failing.Store(true)
	burst()
	if after := regs.limitFor(host).bound(); after >= before || after != 1 {
		t.Errorf("the bound went from %d to %d after answers of 503; want it down to 1", before, after)
	}
}
