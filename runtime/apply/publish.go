package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/publish"
	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/distribution/reference"
)

// tagJob is one tag a run moves, and what it pointed at before.
type tagJob struct {
	target  string
	tag     string
	sources []publish.Source

	next    publish.Manifest // what the tag will point at
	prev    publish.Manifest // what it pointed at, when existed
	existed bool
	err     error // reading, or writing the tag
}

// rollbackTimeout bounds putting tags back after a failure or an interrupt;
// it runs on a context of its own, as the run's may already be cancelled.
const rollbackTimeout = 2 * time.Minute

// putGrace is how long tag writes in flight may go on after an interrupt.
const putGrace = 5 * time.Second

// publishAll moves the tags of every publish step whose builds succeeded,
// all or nothing. It first reads, for every tag, what it points at now and
// what it will point at, and moves none when any read fails. Then it writes
// them all; when any write fails or the run is interrupted, it puts every
// tag back as it was (deleting those that did not exist) and says which it
// could not.
func publishAll(ctx context.Context, p *plan.Plan, results map[string]*BuildResult, sum *Summary, opts Options) error {
	tagger := publish.New(registry.FromPlan(p))
	jobs := inPlace(p, results, sum, tagJobs(p, results))
	if len(jobs) == 0 {
		return nil
	}
	prepare := preparer(ctx, tagger)
	eachJob(jobs, func(j *tagJob) {
		if j.prev, j.existed, j.err = tagger.Current(ctx, j.tag); j.err == nil {
			j.next, j.err = prepare(j)
		}
	})
	if failed := failedTags(jobs); len(failed) > 0 || ctx.Err() != nil {
		return fmt.Errorf("publishing stopped before any tag moved:\n  %s", strings.Join(append(failed, ctxNote(ctx)...), "\n  "))
	}
	// A tag that already points where it should is not written again: an
	// up-to-date build sends nothing to the registry.
	var moving []*tagJob
	for _, j := range jobs {
		if j.existed && j.prev.Desc.Digest == j.next.Desc.Digest {
			sum.Published = append(sum.Published, &Published{Target: j.target, Tag: j.tag, Digest: j.next.Desc.Digest.String(), Unchanged: true})
			continue
		}
		moving = append(moving, j)
	}
	jobs = moving
	// Writes in flight when the run is interrupted get a moment to finish:
	// cut off mid-request, a write may still land after the rollback read
	// the tag, and nothing would put it back.
	putCtx, cancelPuts := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPuts()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(putGrace, cancelPuts) })
	defer stop()
	eachJob(jobs, func(j *tagJob) { j.err = tagger.Put(putCtx, j.tag, j.next) })
	failed := failedTags(jobs)
	if len(failed) == 0 && ctx.Err() == nil {
		for _, j := range jobs {
			sum.Published = append(sum.Published, &Published{Target: j.target, Tag: j.tag, Digest: j.next.Desc.Digest.String()})
		}
		sort.Slice(sum.Published, func(i, k int) bool { return sum.Published[i].Tag < sum.Published[k].Tag })
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	report := rollback(rctx, tagger, jobs)
	return fmt.Errorf("%d of %d tag write(s) failed%s:\n  %s\nputting every tag back as it was:\n  %s",
		len(failed), len(jobs), interruptedNote(ctx), strings.Join(append(failed, ctxNote(ctx)...), "\n  "), strings.Join(report, "\n  "))
}

// inPlace takes out of jobs the tags of builds the plan found up to date:
// it read every one of their tags then, so the run sends the registry
// nothing for them.
func inPlace(p *plan.Plan, results map[string]*BuildResult, sum *Summary, jobs []*tagJob) []*tagJob {
	upToDate := map[string]bool{}
	for _, st := range p.Steps {
		if st.Build != nil && st.Build.Status != nil && st.Build.Status.State == "up-to-date" && results[st.ID] != nil && results[st.ID].UpToDate {
			upToDate[st.Build.Target] = true
		}
	}
	var out []*tagJob
	for _, j := range jobs {
		if upToDate[j.target] && len(j.sources) == 1 {
			sum.Published = append(sum.Published, &Published{Target: j.target, Tag: j.tag, Digest: j.sources[0].Digest, Unchanged: true})
			continue
		}
		out = append(out, j)
	}
	return out
}

// tagJobs lists the tags of the publish steps whose builds all succeeded.
func tagJobs(p *plan.Plan, results map[string]*BuildResult) []*tagJob {
	var jobs []*tagJob
	for _, st := range p.Steps {
		if st.Publish == nil {
			continue
		}
		var sources []publish.Source
		ok := true
		for _, e := range st.Needs {
			if e.Kind != plan.EdgeBuild {
				continue
			}
			r := results[e.Step]
			if r == nil || r.Error != "" || r.Digest == "" {
				ok = false
				break
			}
			sources = append(sources, publish.Source{Digest: r.Digest, Platforms: r.Platforms, From: r.CopiedFrom})
		}
		if !ok {
			continue
		}
		for _, tag := range st.Publish.Tags {
			jobs = append(jobs, &tagJob{target: st.Publish.Target, tag: tag, sources: sources})
		}
	}
	return jobs
}

// preparer prepares what each job's tag will point at, once per repository
// and set of sources: a target's tags in one repository point at the same
// manifest, which need not be fetched (or joined) once per tag.
func preparer(ctx context.Context, tagger *publish.Tagger) func(*tagJob) (publish.Manifest, error) {
	type prepared struct {
		once sync.Once
		m    publish.Manifest
		err  error
	}
	var mu sync.Mutex
	done := map[string]*prepared{}
	return func(j *tagJob) (publish.Manifest, error) {
		key := j.tag
		if named, err := reference.ParseNormalizedNamed(j.tag); err == nil {
			key = named.Name()
		}
		for _, s := range j.sources {
			key += " " + s.Digest
		}
		mu.Lock()
		p := done[key]
		if p == nil {
			p = &prepared{}
			done[key] = p
		}
		mu.Unlock()
		p.once.Do(func() { p.m, p.err = tagger.Prepare(ctx, j.tag, j.sources) })
		return p.m, p.err
	}
}

// eachJob runs f on every job at once and waits for all of them.
func eachJob(jobs []*tagJob, f func(*tagJob)) {
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { f(j) })
	}
	wg.Wait()
}

// failedTags names every job that failed, with its error, in tag order.
func failedTags(jobs []*tagJob) []string {
	var out []string
	for _, j := range jobs {
		if j.err != nil {
			out = append(out, fmt.Sprintf("publish.%s: %s: %v", j.target, j.tag, j.err))
		}
	}
	sort.Strings(out)
	return out
}

// rollback puts every tag that no longer points where it did back, and
// reports, tag by tag, what it did or could not do.
// A write that failed on the client's side (a timeout, a reset) may still
// land at the registry later, so the tags are checked again after a pause
// and put back again if one moved.
func rollback(ctx context.Context, tagger *publish.Tagger, jobs []*tagJob) []string {
	report := make([]string, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { report[i] = restore(ctx, tagger, j) })
	}
	wg.Wait()
	for range 2 {
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
		again := make([]string, len(jobs))
		for i, j := range jobs {
			wg.Go(func() { again[i] = restore(ctx, tagger, j) })
		}
		wg.Wait()
		settled := true
		for i, r := range again {
			if !strings.Contains(r, ": unchanged (") {
				settled = false
				report[i] += "; it moved again afterwards (a write in flight landed late): " + strings.TrimPrefix(r, jobs[i].tag+": ")
			}
		}
		if settled {
			break
		}
	}
	sort.Strings(report)
	return report
}

func restore(ctx context.Context, tagger *publish.Tagger, j *tagJob) string {
	cur, exists, err := tagger.Points(ctx, j.tag)
	if err != nil {
		return fmt.Sprintf("%s: COULD NOT BE CHECKED OR RESTORED (%v); it should point at %s", j.tag, err, wasText(j))
	}
	switch {
	case j.existed && exists && cur.Digest == j.prev.Desc.Digest:
		return fmt.Sprintf("%s: unchanged (%s)", j.tag, j.prev.Desc.Digest)
	case !j.existed && !exists:
		return fmt.Sprintf("%s: unchanged (did not exist)", j.tag)
	case j.existed:
		if err := tagger.Put(ctx, j.tag, j.prev); err != nil {
			return fmt.Sprintf("%s: COULD NOT BE RESTORED (%v); it points at %s, it pointed at %s", j.tag, err, cur.Digest, j.prev.Desc.Digest)
		}
		return fmt.Sprintf("%s: restored to %s", j.tag, j.prev.Desc.Digest)
	default:
		if err := tagger.Delete(ctx, j.tag); err != nil {
			return fmt.Sprintf("%s: COULD NOT BE DELETED (%v); it did not exist before and now points at %s", j.tag, err, cur.Digest)
		}
		return fmt.Sprintf("%s: deleted (it did not exist before)", j.tag)
	}
}

func wasText(j *tagJob) string {
	if j.existed {
		return j.prev.Desc.Digest.String()
	}
	return "nothing (it did not exist)"
}

func ctxNote(ctx context.Context) []string {
	if err := ctx.Err(); err != nil {
		return []string{fmt.Sprintf("the run was interrupted (%v)", err)}
	}
	return nil
}

func interruptedNote(ctx context.Context) string {
	if ctx.Err() != nil {
		return " or were interrupted"
	}
	return ""
}
