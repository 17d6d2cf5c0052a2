package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/runtime/apply"
	regclient "github.com/bakeplan/bakeplan/runtime/registry"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// faultProxy stands in front of the test registry and breaks the requests
// a test names, as a flaky network, a busy registry or another writer
// would: by tag, a manifest PUT can answer 500, hang until the client
// gives up, land late (delayed, forwarded even if the client has gone),
// land with no answer (the connection closed after forwarding), be
// throttled with 429 and Retry-After, or run a hook before or after it is
// forwarded; a manifest GET can stall after its headers or carry a stale
// Docker-Content-Digest header.
type faultProxy struct {
	addr string

	mu      sync.Mutex
	fail    map[string]bool          // tag -> PUT answers 500
	hang    map[string]bool          // tag -> PUT never answers
	delay   map[string]time.Duration // tag -> PUT lands this late, whatever the client does
	drop    map[string]bool          // tag -> PUT lands, and the connection closes unanswered
	limit   map[string]int           // tag -> PUT answers 429 (Retry-After: 1) this many times
	before  map[string]func()        // tag -> runs before the PUT is forwarded
	after   map[string]func()        // tag -> runs after the PUT landed, before the answer
	stall   map[string]bool          // tag -> GET sends headers, then nothing
	lie     map[string]string        // tag -> GET answers with this Docker-Content-Digest
	onGet   map[string]func(n int)   // tag -> runs before the n-th GET (from 1) is forwarded
	gets    map[string]int
	hanging chan string    // receives a tag when its PUT starts hanging or is delayed
	puts    map[string]int // tag -> PUTs received
}

func newFaultProxy(t testing.TB, registry string) *faultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fp := &faultProxy{addr: l.Addr().String(), fail: map[string]bool{}, hang: map[string]bool{}, delay: map[string]time.Duration{},
		drop: map[string]bool{}, limit: map[string]int{}, before: map[string]func(){}, after: map[string]func(){},
		stall: map[string]bool{}, lie: map[string]string{}, hanging: make(chan string, 64), puts: map[string]int{},
		onGet: map[string]func(int){}, gets: map[string]int{}}
	target := &url.URL{Scheme: "http", Host: registry}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/manifests/") {
			rp.ServeHTTP(w, r)
			return
		}
		tag := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		fp.mu.Lock()
		fail, hang, delay, drop, before, after, stall, lie := fp.fail[tag], fp.hang[tag], fp.delay[tag], fp.drop[tag], fp.before[tag], fp.after[tag], fp.stall[tag], fp.lie[tag]
		throttle := fp.limit[tag] > 0 && r.Method == http.MethodPut
		if throttle {
			fp.limit[tag]--
		}
		if r.Method == http.MethodPut {
			fp.puts[tag]++
		}
		var onGet func()
		if r.Method == http.MethodGet && fp.onGet[tag] != nil {
			fp.gets[tag]++
			f, n := fp.onGet[tag], fp.gets[tag]
			onGet = func() { f(n) }
		}
		fp.mu.Unlock()
		if onGet != nil {
			onGet()
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			switch {
			case stall:
				w.Header().Set("Content-Type", ocispecs.MediaTypeImageIndex)
				w.Header().Set("Content-Length", "4096")
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, "{")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			case lie != "":
				rec := httptest.NewRecorder()
				rp.ServeHTTP(rec, r)
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				if rec.Code == http.StatusOK {
					w.Header().Set("Docker-Content-Digest", lie)
				}
				w.WriteHeader(rec.Code)
				w.Write(rec.Body.Bytes())
			default:
				rp.ServeHTTP(w, r)
			}
			return
		case http.MethodPut:
		default:
			rp.ServeHTTP(w, r)
			return
		}
		switch {
		case throttle:
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"injected throttling"}]}`, http.StatusTooManyRequests)
			return
		case fail:
			if before != nil {
				before()
			}
			http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}`, http.StatusInternalServerError)
			return
		case hang:
			fp.hanging <- tag
			<-r.Context().Done()
			return
		}
		if before != nil {
			before()
		}
		if delay > 0 {
			fp.hanging <- tag
			time.Sleep(delay)
		}
		// Forwarded on a request of its own, so that it lands even when
		// the client has given up, as a registry behind a slow network
		// would still apply it.
		body, _ := io.ReadAll(r.Body)
		out, _ := http.NewRequest(http.MethodPut, target.String()+r.URL.RequestURI(), bytes.NewReader(body))
		out.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if after != nil {
			after()
		}
		if drop {
			fp.hanging <- tag
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fp
}

func (fp *faultProxy) set(f func()) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	f()
}

// TestTagWritesAreAllOrNothing: four tags, two of which exist. One tag
// write fails (or hangs until the run is interrupted): every tag is put
// back as it was, the ones that did not exist are deleted, and the error
// names the failed tag and what was restored.
func TestTagWritesAreAllOrNothing(t *testing.T) {
	for _, mode := range []string{"fail", "interrupt"} {
		t.Run(mode, func(t *testing.T) {
			w := newWriters(t, "allornothing")
			oldA := w.pushed("old", "a", "b")
			oldB := w.reg.digest(t, w.repo, "b")
			_, run := w.project("new", "a", "b", "c", "d")
			var err error
			if mode == "fail" {
				w.fp.set(func() { w.fp.fail["c"] = true })
				if _, err = run(shortTimeouts(ctx(t))); err == nil {
					t.Fatal("apply succeeded through a failing tag write")
				}
			} else {
				w.fp.set(func() { w.fp.hang["c"] = true })
				err = w.interrupted(shortTimeouts(ctx(t)), run, "c")
			}
			mustContain(t, err.Error(), w.repo+":c", w.repo+":a: put back: it holds "+oldA, w.repo+":b: put back: it holds "+oldB,
				w.repo+":d: deleted: it holds nothing (it did not exist)", w.repo+":c: unchanged: it holds nothing")
			w.holds("a", oldA)
			w.holds("b", oldB)
			for _, tag := range []string{"c", "d"} {
				if w.reg.exists(t, w.repo, tag) {
					t.Errorf("tag %s exists; it did not before the run", tag)
				}
			}
		})
	}
}

// shortTimeouts bounds registry requests tightly, so that a test of a
// registry that stops answering ends in seconds.
func shortTimeouts(c context.Context) context.Context {
	return regclient.WithTimeouts(c, regclient.Timeouts{Header: 2 * time.Second, Idle: 2 * time.Second, Retries: 1, MaxWait: 2 * time.Second})
}

// TestUnwritableMetadataFileBuildsNothing: a --metadata-file location that
// cannot be written fails the run before any build or tag.
func TestUnwritableMetadataFileBuildsNothing(t *testing.T) {
	e := envOrSkip(t)
	repo := unique("metadata")
	p, dir := project(t, map[string]string{
		"f": repo,
		"bakeplan.hcl": fmt.Sprintf(`
target "img" {
  dockerfile_inline = "FROM scratch\nCOPY f /f"
  platforms = ["linux/amd64"]
  tags = ["%s/%s:v1"]
  push = true
}
`, e.registry, repo),
	})
	opts := e.options(dir)
	for _, bad := range []string{filepath.Join(dir, "missing", "meta.json"), dir} {
		opts.MetadataFile = bad
		_, err := apply.Apply(ctx(t), p, opts)
		if err == nil || !strings.Contains(err.Error(), "metadata file") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if reg := (registry{e.registry}); reg.exists(t, repo, "v1") {
		t.Errorf("the tag was written")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("the metadata file's directory was created")
	}
}
