package gitfs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Repo is a commit of a repository, as a release's "git" epoch reads it:
// the working tree at HEAD, or a revision (which is never dirty).
type Repo struct {
	dir string
	rev string // "HEAD" for the working tree
}

// WorkTree is the repository holding dir, at HEAD with its working tree;
// ok is false when dir is in no repository (or git is missing).
func WorkTree(ctx context.Context, dir string) (r *Repo, ok bool) {
	top, err := TopLevel(ctx, dir)
	if err != nil || top == "" {
		return nil, false
	}
	return &Repo{dir: top, rev: "HEAD"}, true
}

// Revision is rev of the repository at dir, as committed.
func Revision(dir, rev string) *Repo { return &Repo{dir: dir, rev: rev} }

// Head returns the commit and its commit time.
func (r *Repo) Head(ctx context.Context) (string, time.Time, error) {
	out, err := git(ctx, r.dir, "log", "-1", "--format=%H %ct", r.rev, "--")
	if err != nil {
		return "", time.Time{}, err
	}
	commit, ts, ok := strings.Cut(strings.TrimSpace(string(out)), " ")
	sec, perr := strconv.ParseInt(ts, 10, 64)
	if !ok || perr != nil {
		return "", time.Time{}, fmt.Errorf("git log gave %q, not a commit and its time", out)
	}
	return commit, time.Unix(sec, 0).UTC(), nil
}

// Dirty says whether the working tree has changes to tracked files or
// files git does not ignore; a revision never has.
func (r *Repo) Dirty(ctx context.Context) (bool, error) {
	if r.rev != "HEAD" {
		return false, nil
	}
	out, err := git(ctx, r.dir, "status", "--porcelain")
	if err != nil {
		return false, err
	}
	return len(strings.TrimSpace(string(out))) > 0, nil
}
