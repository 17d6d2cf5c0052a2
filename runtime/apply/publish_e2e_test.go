package apply_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bakeplan/bakeplan/runtime/apply"
)

// faultProxy stands in front of the test registry and breaks the requests
// a test names: a tag write that answers 500, or one that hangs until the
// client gives up, as on a flaky network.
type faultProxy struct {
	addr string

	mu      sync.Mutex
	fail    map[string]bool // tag -> PUT answers 500
	hang    map[string]bool // tag -> PUT never answers
	hanging chan string     // receives a tag when its PUT starts hanging
}

func newFaultProxy(t *testing.T, registry string) *faultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fp := &faultProxy{addr: l.Addr().String(), fail: map[string]bool{}, hang: map[string]bool{}, hanging: make(chan string, 8)}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registry})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			tag := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			fp.mu.Lock()
			fail, hang := fp.fail[tag], fp.hang[tag]
			fp.mu.Unlock()
			switch {
			case fail:
				http.Error(w, `{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}`, http.StatusInternalServerError)
				return
			case hang:
				fp.hanging <- tag
				<-r.Context().Done()
				return
			}
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return fp
}

// TestTagWritesAreAllOrNothing: four tags, two of which exist. One tag
// write fails (or hangs until the run is interrupted): every tag is put
// back as it was, the ones that did not exist are deleted, and the error
// names the failed tag and what was restored.
func TestTagWritesAreAllOrNothing(t *testing.T) {
	e := envOrSkip(t)
	for _, mode := range []string{"fail", "interrupt"} {
		t.Run(mode, func(t *testing.T) {
			fp := newFaultProxy(t, e.registry)
			repo := unique("allornothing")
			spec := func(content string, tags ...string) map[string]string {
				var quoted []string
				for _, tag := range tags {
					quoted = append(quoted, fmt.Sprintf("%q", fp.addr+"/"+repo+":"+tag))
				}
				return map[string]string{
					"f": content,
					"bakeplan.hcl": fmt.Sprintf(`
target "img" {
  dockerfile_inline = "FROM scratch\nCOPY f /f"
  platforms = ["linux/amd64"]
  tags = [%s]
  push = true
}
`, strings.Join(quoted, ", ")),
				}
			}
			reg := registry{e.registry}
			p, dir := project(t, spec("old "+repo, "a", "b"))
			if _, err := apply.Apply(ctx(t), p, e.options(dir)); err != nil {
				t.Fatal(err)
			}
			oldA, oldB := reg.digest(t, repo, "a"), reg.digest(t, repo, "b")

			p, dir = project(t, spec("new "+repo, "a", "b", "c", "d"))
			c, cancel := context.WithCancel(ctx(t))
			defer cancel()
			if mode == "fail" {
				fp.fail["c"] = true
			} else {
				fp.hang["c"] = true
				go func() { <-fp.hanging; cancel() }()
			}
			_, err := apply.Apply(c, p, e.options(dir))
			if err == nil {
				t.Fatal("apply succeeded through a failing tag write")
			}
			msg := err.Error()
			for _, want := range []string{repo + ":c", "restored to " + oldA, "restored to " + oldB, repo + ":d: deleted"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q:\n%s", want, msg)
				}
			}
			if got := reg.digest(t, repo, "a"); got != oldA {
				t.Errorf("tag a moved: %s, was %s", got, oldA)
			}
			if got := reg.digest(t, repo, "b"); got != oldB {
				t.Errorf("tag b moved: %s, was %s", got, oldB)
			}
			for _, tag := range []string{"c", "d"} {
				if reg.exists(t, repo, tag) {
					t.Errorf("tag %s exists; it did not before the run", tag)
				}
			}
		})
	}
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
