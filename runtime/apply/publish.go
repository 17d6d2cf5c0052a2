package apply

import (
	"context"
	"errors"
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
	// wrote: a write was sent (it may have landed even if it failed).
	wrote bool
}

// rollbackTimeout bounds putting tags back after a failure or an interrupt;
// it runs on a context of its own, as the run's may already be cancelled.
const rollbackTimeout = 2 * time.Minute

// lateWrites is how long, after every write has ended, a rollback keeps
// checking the tags whose write got no answer: such a write may still
// land, and it is put back when it does.
const lateWrites = 3 * time.Second

// publishAll moves the tags of every publish step whose builds succeeded,
// all or nothing, without undoing another writer's work:
//
//  1. it reads, for every tag, what it points at now and prepares what it
//     will point at, and moves none when any read fails;
//  2. it writes each tag that must move, re-reading it right before: a tag
//     another writer moved since step 1 is not overwritten, and fails the
//     run;
//  3. when every write succeeded, it reads every tag again and reports
//     what each holds then; otherwise (or on an interrupt, after the writes
//     in flight end) it puts back only the tags that still hold what this
//     run wrote, leaves any other writer's, and reports what each holds
//     after the rollback settled.
//
// Registries have no compare-and-swap: between a re-read and the write
// that follows it, another writer's write can still be lost
// (docs/guarantees.md).
func publishAll(ctx context.Context, p *plan.Plan, results map[string]*BuildResult, sum *Summary, opts Options) error {
	tagger := publish.New(registry.FromPlan(p))
	jobs := tagJobs(p, results)
	if len(jobs) == 0 {
		return nil
	}
	prepare := preparer(ctx, tagger)
	eachJob(jobs, func(j *tagJob) {
		if j.prev, j.existed, j.err = tagger.Current(ctx, j.tag); j.err != nil {
			return
		}
		if j.existed && len(j.sources) == 1 && j.sources[0].From == "" && j.prev.Desc.Digest.String() == j.sources[0].Digest {
			j.next = j.prev // it holds the image already: the bytes just read
			return
		}
		j.next, j.err = prepare(j)
	})
	if failed := failedTags(jobs); len(failed) > 0 || ctx.Err() != nil {
		return fmt.Errorf("publishing stopped before any tag moved:\n  %s", strings.Join(append(failed, ctxNote(ctx)...), "\n  "))
	}
	var moving []*tagJob
	for _, j := range jobs {
		if !j.existed || j.prev.Desc.Digest != j.next.Desc.Digest {
			moving = append(moving, j)
		}
	}
	// Writes in flight when the run is interrupted run to their end
	// (bounded by the registry timeouts), so that none lands after the
	// rollback looked; no new write starts.
	writeCtx := registry.StopRetrying(context.WithoutCancel(ctx), ctx.Done())
	stop := context.AfterFunc(ctx, func() {
		fmt.Fprintf(opts.Out, "Interrupted: waiting for the tag writes already sent (each at most %s), then putting back what this run moved.\n", registry.TimeoutsFrom(ctx).Header)
	})
	eachJob(moving, func(j *tagJob) {
		if ctx.Err() != nil {
			return
		}
		cur, exists, err := tagger.Current(writeCtx, j.tag)
		switch {
		case err != nil:
			j.err = err
		case !same(cur, exists, j.prev, j.existed):
			j.err = fmt.Errorf("another writer moved it to %s since this run read it (%s); not overwritten", holds(cur, exists), holds(j.prev, j.existed))
		default:
			j.wrote = true
			j.err = tagger.Put(writeCtx, j.tag, j.next)
		}
	})
	stop()
	failed := failedTags(moving)
	if len(failed) == 0 && ctx.Err() == nil {
		sum.Published = append(sum.Published, settled(context.WithoutCancel(ctx), tagger, jobs)...)
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	report := rollback(rctx, tagger, moving)
	return fmt.Errorf("%d of %d tag write(s) failed%s:\n  %s\nputting back the tags this run moved:\n  %s",
		len(failed), len(moving), interruptedNote(ctx), strings.Join(append(failed, ctxNote(ctx)...), "\n  "), strings.Join(report, "\n  "))
}

// settled reports what every tag holds after a successful run: a tag it
// wrote is read again (another writer may have moved it since), one that
// already held the image as the run read it reports that read.
func settled(ctx context.Context, tagger *publish.Tagger, jobs []*tagJob) []*Published {
	out := make([]*Published, len(jobs))
	at := positions(jobs)
	eachJob(jobs, func(j *tagJob) {
		i := at[j]
		pb := &Published{Target: j.target, Tag: j.tag, Digest: j.next.Desc.Digest.String(), Unchanged: j.existed && j.prev.Desc.Digest == j.next.Desc.Digest}
		if pb.Unchanged {
			out[i] = pb
			return
		}
		cur, exists, err := tagger.Current(ctx, j.tag)
		switch {
		case err != nil:
			pb.Now = "could not be read again: " + err.Error()
		case !exists:
			pb.Now = "deleted by another writer since"
		case cur.Desc.Digest != j.next.Desc.Digest:
			pb.Now = "moved by another writer since: it holds " + cur.Desc.Digest.String()
		}
		out[i] = pb
	})
	sort.Slice(out, func(i, k int) bool { return out[i].Tag < out[k].Tag })
	return out
}

// same says whether a read tag holds what another read found.
func same(a publish.Manifest, aExists bool, b publish.Manifest, bExists bool) bool {
	return aExists == bExists && (!aExists || a.Desc.Digest == b.Desc.Digest)
}

func holds(m publish.Manifest, exists bool) string {
	if !exists {
		return "nothing (it did not exist)"
	}
	return m.Desc.Digest.String()
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

// workers is how many tags are read or written at once; the registry
// client bounds each registry's share further.
const workers = 64

// eachJob runs f on every job, a bounded number at once, and waits for
// all of them.
func eachJob(jobs []*tagJob, f func(*tagJob)) {
	next := make(chan *tagJob)
	var wg sync.WaitGroup
	for range min(workers, len(jobs)) {
		wg.Go(func() {
			for j := range next {
				f(j)
			}
		})
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
}

// positions maps each job to its index, for results kept in order.
func positions(jobs []*tagJob) map[*tagJob]int {
	at := make(map[*tagJob]int, len(jobs))
	for i, j := range jobs {
		at[j] = i
	}
	return at
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

// rollback puts back each tag this run wrote that still holds what it
// wrote, leaves any tag another writer moved, and reports, tag by tag,
// what it did and what the tag holds once the rollback settled: a write
// that got no answer may land late, so those tags are watched for a while
// and put back if it does.
func rollback(ctx context.Context, tagger *publish.Tagger, jobs []*tagJob) []string {
	var wrote []*tagJob
	for _, j := range jobs {
		if j.wrote {
			wrote = append(wrote, j)
		}
	}
	did := map[*tagJob]string{}
	var mu sync.Mutex
	pass := func(jobs []*tagJob) {
		eachJob(jobs, func(j *tagJob) {
			if what := restore(ctx, tagger, j); what != "" {
				mu.Lock()
				did[j] = what
				mu.Unlock()
			}
		})
	}
	pass(wrote)
	var uncertain []*tagJob
	for _, j := range wrote {
		if errors.Is(j.err, publish.ErrNoAnswer) {
			uncertain = append(uncertain, j)
		}
	}
	for deadline := time.Now().Add(lateWrites); len(uncertain) > 0 && time.Now().Before(deadline) && ctx.Err() == nil; {
		time.Sleep(250 * time.Millisecond)
		pass(uncertain)
	}
	report := make([]string, len(jobs))
	at := positions(jobs)
	eachJob(jobs, func(j *tagJob) {
		report[at[j]] = finalState(ctx, tagger, j, did[j])
	})
	sort.Strings(report)
	return report
}

// restore puts j's tag back if it holds what this run wrote, and says what
// it did ("" for nothing).
func restore(ctx context.Context, tagger *publish.Tagger, j *tagJob) string {
	cur, exists, err := tagger.Current(ctx, j.tag)
	if err != nil || !exists || cur.Desc.Digest != j.next.Desc.Digest {
		return ""
	}
	if j.existed {
		if err := tagger.Put(ctx, j.tag, j.prev); err != nil {
			return fmt.Sprintf("could not be put back (%v)", err)
		}
		return "put back"
	}
	if err := tagger.Delete(ctx, j.tag); err != nil {
		return fmt.Sprintf("could not be deleted (%v)", err)
	}
	return "deleted"
}

// finalState is one line of a rollback's report: what was done, and what
// the tag holds now, read from the registry.
func finalState(ctx context.Context, tagger *publish.Tagger, j *tagJob, did string) string {
	cur, exists, err := tagger.Current(ctx, j.tag)
	before := holds(j.prev, j.existed)
	switch {
	case err != nil:
		return fmt.Sprintf("%s: COULD NOT BE CHECKED (%v); before this run it held %s", j.tag, err, before)
	case same(cur, exists, j.prev, j.existed) && did == "":
		return fmt.Sprintf("%s: unchanged: it holds %s, as before this run", j.tag, before)
	case same(cur, exists, j.prev, j.existed) && strings.HasPrefix(did, "could not"):
		// The write's answer was lost, not the write.
		return fmt.Sprintf("%s: put back (%s, yet it landed): it holds %s, as before this run", j.tag, did, before)
	case same(cur, exists, j.prev, j.existed):
		return fmt.Sprintf("%s: %s: it holds %s, as before this run", j.tag, did, before)
	case exists && cur.Desc.Digest == j.next.Desc.Digest:
		return fmt.Sprintf("%s: NOT PUT BACK (%s): it holds %s, which this run wrote; before this run it held %s", j.tag, orText(did, "it moved back after the rollback looked"), cur.Desc.Digest, before)
	default:
		return fmt.Sprintf("%s: left as it is: another writer moved it; it holds %s (before this run: %s)", j.tag, holds(cur, exists), before)
	}
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
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
