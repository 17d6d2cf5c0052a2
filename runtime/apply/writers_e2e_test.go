package apply_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/runtime/apply"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// writers is one repository behind a fault proxy, with images that runs
// (this one's and others') put under its tags.
type writers struct {
	t    testing.TB
	e    testEnv
	fp   *faultProxy
	repo string
	reg  registry
}

func newWriters(t testing.TB, name string) *writers {
	e := envOrSkip(t)
	return &writers{t: t, e: e, fp: newFaultProxy(t, e.registry), repo: unique(name), reg: registry{e.registry}}
}

// project is a one-platform image of content, tagged through the proxy.
func (w *writers) project(content string, tags ...string) (*apply.Options, func(context.Context) (*apply.Summary, error)) {
	w.t.Helper()
	var quoted []string
	for _, tag := range tags {
		quoted = append(quoted, fmt.Sprintf("%q", w.fp.addr+"/"+w.repo+":"+tag))
	}
	p, dir := project(w.t, map[string]string{
		"f": content + " " + w.repo,
		"bakeplan.hcl": fmt.Sprintf(`
target "img" {
  dockerfile_inline = "FROM scratch\nCOPY f /f"
  platforms = ["linux/amd64"]
  tags = [%s]
  push = true
}
`, strings.Join(quoted, ", ")),
	})
	opts := w.e.options(dir)
	return &opts, func(c context.Context) (*apply.Summary, error) { return apply.Apply(c, p, opts) }
}

// pushed applies content under tags and returns the image's digest.
func (w *writers) pushed(content string, tags ...string) string {
	w.t.Helper()
	_, run := w.project(content, tags...)
	if _, err := run(shortTimeouts(ctx(w.t))); err != nil {
		w.t.Fatalf("pushing %s: %v", content, err)
	}
	return w.reg.digest(w.t, w.repo, tags[0])
}

// point moves tag to dgst directly at the registry, as another writer.
func (w *writers) point(tag, dgst string) {
	w.t.Helper()
	code, body, _ := w.reg.get(w.t, w.repo+"/manifests/"+dgst, ocispecs.MediaTypeImageIndex, ocispecs.MediaTypeImageManifest)
	if code != http.StatusOK {
		w.t.Errorf("reading %s: %d", dgst, code)
		return
	}
	var mt struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(body, &mt)
	req, _ := http.NewRequest(http.MethodPut, "http://"+w.e.registry+"/v2/"+w.repo+"/manifests/"+tag, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", mt.MediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Error(err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		w.t.Errorf("another writer's PUT of %s: %s", tag, resp.Status)
	}
}

// interrupted runs run and interrupts it (as Ctrl-C would) once the
// write of tag is held up at the proxy; it returns the run's error, which
// must not be nil.
func (w *writers) interrupted(c context.Context, run func(context.Context) (*apply.Summary, error), tag string) error {
	w.t.Helper()
	c, cancel := context.WithCancel(c)
	defer cancel()
	go func() {
		for held := range w.fp.hanging {
			if held == tag {
				cancel()
				return
			}
		}
	}()
	_, err := run(c)
	if err == nil {
		w.t.Fatal("an interrupted apply succeeded")
	}
	return err
}

func (w *writers) holds(tag, want string) {
	w.t.Helper()
	if got := w.reg.digest(w.t, w.repo, tag); got != want {
		w.t.Errorf("%s holds %s, want %s", tag, got, want)
	}
}

func mustContain(t *testing.T, msg string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(msg, want) {
			t.Errorf("the report does not say %q:\n%s", want, msg)
		}
	}
}

// TestRollbackLeavesOtherWriters: run A moves a, latest and creates c; the
// write of latest fails after another writer has moved a and c. A's
// rollback must leave both as the other writer put them (and say so), and
// put back only what still holds A's image.
func TestRollbackLeavesOtherWriters(t *testing.T) {
	w := newWriters(t, "otherwriters")
	old := w.pushed("old", "a", "latest")
	other := w.pushed("other", "b")
	written := make(chan string, 8)
	w.fp.set(func() {
		w.fp.after["a"] = func() { written <- "a" }
		w.fp.after["c"] = func() { written <- "c" }
		w.fp.fail["latest"] = true
		w.fp.before["latest"] = func() {
			// Once A has written a and c, the other writer moves both.
			for range 2 {
				select {
				case <-written:
				case <-time.After(20 * time.Second):
				}
			}
			w.point("a", other)
			w.point("c", other)
		}
	})
	_, run := w.project("new", "a", "latest", "c")
	_, err := run(shortTimeouts(ctx(t)))
	if err == nil {
		t.Fatal("apply succeeded through a failing tag write")
	}
	w.holds("a", other)
	w.holds("c", other)
	w.holds("latest", old)
	mustContain(t, err.Error(),
		w.repo+":a: left as it is: another writer moved it; it holds "+other,
		w.repo+":c: left as it is: another writer moved it; it holds "+other,
		w.repo+":latest: unchanged: it holds "+old)
}

// TestNoOverwriteOfAMovedTag: another writer moves b between the run's
// first read and its write: b is not overwritten, the run fails naming
// it, and a is left (or put back) as it was.
func TestNoOverwriteOfAMovedTag(t *testing.T) {
	w := newWriters(t, "movedunder")
	old := w.pushed("old", "a", "b")
	other := w.pushed("other", "x")
	w.fp.set(func() {
		w.fp.onGet["b"] = func(n int) {
			if n == 2 { // the re-read right before the write
				w.point("b", other)
			}
		}
	})
	_, run := w.project("new", "a", "b")
	_, err := run(shortTimeouts(ctx(t)))
	if err == nil {
		t.Fatal("apply overwrote a tag another writer moved")
	}
	w.holds("a", old)
	w.holds("b", other)
	mustContain(t, err.Error(), w.repo+":b: another writer moved it to "+other+" since this run read it ("+old+"); not overwritten",
		w.repo+":b: left as it is")
}

// TestLateWriteIsPutBack: interrupted while a tag write is in flight that
// lands 8 s later: the run waits for it and puts the tag back, so no tag
// is left split.
func TestLateWriteIsPutBack(t *testing.T) {
	w := newWriters(t, "latewrite")
	old := w.pushed("old", "a", "latest")
	w.fp.set(func() {
		w.fp.delay["latest"] = 8 * time.Second
		// Only the run's own write is slow, not the rollback's.
		w.fp.after["latest"] = func() { w.fp.set(func() { w.fp.delay["latest"] = 0 }) }
	})
	_, run := w.project("new", "a", "latest")
	err := w.interrupted(ctx(t), run, "latest")
	time.Sleep(time.Second)
	w.holds("a", old)
	w.holds("latest", old)
	mustContain(t, err.Error(), w.repo+":latest: put back: it holds "+old, w.repo+":a: put back: it holds "+old)
}

// TestWriteLandsWithoutAnswer: the write of latest reaches the registry,
// whose answer is lost, and the run is interrupted: the report says what
// the registry holds (latest put back), not what the run expected.
func TestWriteLandsWithoutAnswer(t *testing.T) {
	w := newWriters(t, "noanswer")
	old := w.pushed("old", "a", "latest")
	w.fp.set(func() { w.fp.drop["latest"] = true })
	_, run := w.project("new", "a", "latest")
	err := w.interrupted(shortTimeouts(ctx(t)), run, "latest")
	w.holds("latest", old)
	w.holds("a", old)
	mustContain(t, err.Error(), w.repo+":latest: put back", "it holds "+old+", as before this run")
	if strings.Contains(err.Error(), "COULD NOT") || strings.Contains(err.Error(), "NOT PUT BACK") {
		t.Errorf("the report claims a failure the registry does not show:\n%s", err)
	}
}

// TestThrottledWriteIsRetried: a 429 with Retry-After is waited out and
// the write sent again.
func TestThrottledWriteIsRetried(t *testing.T) {
	w := newWriters(t, "throttled")
	w.pushed("old", "a", "latest")
	w.fp.set(func() { w.fp.limit["latest"] = 1 })
	_, run := w.project("new", "a", "latest")
	sum, err := run(shortTimeouts(ctx(t)))
	if err != nil {
		t.Fatalf("a throttled write was not retried: %v", err)
	}
	w.holds("latest", w.reg.digest(t, w.repo, "a"))
	w.fp.mu.Lock()
	puts := w.fp.puts["latest"]
	w.fp.mu.Unlock()
	if puts != 3 { // one for the old image, then the 429 and its retry
		t.Errorf("%d PUTs of latest, want 3", puts)
	}
	for _, pb := range sum.Published {
		if pb.Now != "" {
			t.Errorf("%s: %s", pb.Tag, pb.Now)
		}
	}
}

// TestReportReadsTheRegistry: another writer moves a right after the run
// wrote it; the summary says what a holds at the end, not what the run
// wrote.
func TestReportReadsTheRegistry(t *testing.T) {
	w := newWriters(t, "truestate")
	w.pushed("old", "a", "latest")
	other := w.pushed("other", "x")
	w.fp.set(func() { w.fp.after["a"] = func() { w.point("a", other) } })
	_, run := w.project("new", "a", "latest")
	sum, err := run(shortTimeouts(ctx(t)))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, pb := range sum.Published {
		if strings.HasSuffix(pb.Tag, ":a") {
			found = true
			if !strings.Contains(pb.Now, "moved by another writer since: it holds "+other) {
				t.Errorf("the summary says a holds %s (%q); it holds %s", pb.Digest, pb.Now, other)
			}
		}
	}
	if !found {
		t.Errorf("a is missing from the summary: %+v", sum.Published)
	}
}

// TestStaleDigestHeader: the registry's Docker-Content-Digest header lies
// about a tag that already holds the run's image: the run believes the
// bytes, writes nothing and reports the tag unchanged.
func TestStaleDigestHeader(t *testing.T) {
	w := newWriters(t, "staleheader")
	w.pushed("same", "a")
	w.fp.set(func() {
		w.fp.lie["a"] = "sha256:" + strings.Repeat("0", 64)
		w.fp.puts["a"] = 0
	})
	_, run := w.project("same", "a")
	sum, err := run(shortTimeouts(ctx(t)))
	if err != nil {
		t.Fatal(err)
	}
	w.fp.mu.Lock()
	puts := w.fp.puts["a"]
	w.fp.mu.Unlock()
	if puts != 0 {
		t.Errorf("the run wrote a %d time(s), trusting a header over the manifest's bytes", puts)
	}
	if len(sum.Published) != 1 || !sum.Published[0].Unchanged || sum.Published[0].Now != "" {
		t.Errorf("summary: %+v", sum.Published[0])
	}
}

// TestStalledRegistry: a registry that sends a manifest's headers and then
// nothing fails the run within the bound, naming the stall, and moves no
// tag.
func TestStalledRegistry(t *testing.T) {
	w := newWriters(t, "stalled")
	old := w.pushed("old", "a")
	w.fp.set(func() { w.fp.stall["a"] = true })
	_, run := w.project("new", "a")
	c, cancel := context.WithTimeout(shortTimeouts(context.Background()), time.Minute)
	defer cancel()
	start := time.Now()
	_, err := run(c)
	if err == nil || !strings.Contains(err.Error(), "the registry sent nothing for 2s") {
		t.Fatalf("err = %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the stalled registry held the run for %s", took)
	}
	w.fp.set(func() { w.fp.stall["a"] = false })
	w.holds("a", old)
}

// BenchmarkCompareWindow measures the window compare-before-write leaves:
// from the registry answering the re-read of a tag to the run's write of
// it arriving there. Another writer's write that lands inside it is lost.
func BenchmarkCompareWindow(b *testing.B) {
	w := newWriters(b, "window")
	var read, put []time.Time
	w.fp.set(func() {
		// Each run reads latest twice: to prepare, and right before
		// writing; and each reads it once more for the report.
		w.fp.onGet["latest"] = func(n int) {
			if n%3 == 2 {
				w.fp.set(func() { read = append(read, time.Now()) })
			}
		}
		w.fp.before["latest"] = func() { w.fp.set(func() { put = append(put, time.Now()) }) }
	})
	for i := 0; b.Loop(); i++ {
		_, run := w.project(fmt.Sprintf("v%d", i), "latest")
		if _, err := run(ctx(b)); err != nil {
			b.Fatal(err)
		}
	}
	var gaps []time.Duration
	w.fp.set(func() {
		for i := range min(len(read), len(put)) {
			gaps = append(gaps, put[i].Sub(read[i]))
		}
	})
	if len(gaps) == 0 {
		b.Fatal("no write was measured")
	}
	slices.Sort(gaps)
	b.ReportMetric(float64(gaps[len(gaps)/2].Microseconds()), "µs-median-window")
	b.ReportMetric(float64(gaps[len(gaps)*9/10].Microseconds()), "µs-p90-window")
}
