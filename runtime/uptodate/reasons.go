package uptodate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/internal/keys"
	"github.com/bakeplan/bakeplan/plan"
)

// mostFiles is how many changed files a reason names.
const mostFiles = 3

// Reasons says, one line per input, why a build whose published record is
// old must run again for the record now.
func Reasons(old, now Record) []string {
	var out []string
	if old.Dockerfile != now.Dockerfile {
		out = append(out, "Dockerfile changed")
	}
	if old.Stage != now.Stage {
		out = append(out, fmt.Sprintf("stage %s → %s", orNone(old.Stage), orNone(now.Stage)))
	}
	if old.Context != now.Context {
		out = append(out, contextReason(old, now))
	}
	for _, k := range keys.Union(old.Contexts, now.Contexts) {
		if old.Contexts[k] != now.Contexts[k] {
			out = append(out, fmt.Sprintf("named context %s changed", k))
		}
	}
	for _, k := range keys.Union(old.Args, now.Args) {
		o, inOld := old.Args[k]
		n, inNow := now.Args[k]
		switch {
		case !inOld:
			out = append(out, fmt.Sprintf("arg %s added", k))
		case !inNow:
			out = append(out, fmt.Sprintf("arg %s removed", k))
		case o == n:
		case strings.HasPrefix(o, "(sensitive") || strings.HasPrefix(n, "(sensitive"):
			out = append(out, fmt.Sprintf("arg %s changed (sensitive)", k))
		default:
			out = append(out, fmt.Sprintf("arg %s %s → %s", k, o, n))
		}
	}
	for _, p := range now.Platforms {
		if !slices.Contains(old.Platforms, p) {
			out = append(out, fmt.Sprintf("platform %s added", p))
		}
	}
	for _, p := range old.Platforms {
		if !slices.Contains(now.Platforms, p) {
			out = append(out, fmt.Sprintf("platform %s removed", p))
		}
	}
	for _, k := range keys.Union(old.Images, now.Images) {
		o, n := old.Images[k], now.Images[k]
		switch {
		case o == n:
		case o == "":
			out = append(out, fmt.Sprintf("base %s added", familiar(k)))
		case n == "":
			out = append(out, fmt.Sprintf("base %s removed", familiar(k)))
		case o == "unpinned":
			out = append(out, fmt.Sprintf("base %s was not resolved when it was built; it is %s now", familiar(k), plan.ShortDigest(n)))
		default:
			out = append(out, fmt.Sprintf("base %s moved %s → %s", familiar(k), plan.ShortDigest(o), plan.ShortDigest(n)))
		}
	}
	for _, k := range keys.Union(old.Run, now.Run) {
		if old.Run[k] != now.Run[k] {
			out = append(out, fmt.Sprintf("%s %s → %s (every RUN gets it)", k, orDefault(old.Run[k]), orDefault(now.Run[k])))
		}
	}
	for _, k := range keys.Union(old.Attrs, now.Attrs) {
		if old.Attrs[k] != now.Attrs[k] {
			out = append(out, fmt.Sprintf("%s %s → %s", k, orDefault(old.Attrs[k]), orDefault(now.Attrs[k])))
		}
	}
	if len(out) == 0 {
		// Labels, annotations, outputs or no_cache, which the record
		// does not list one by one.
		out = append(out, "build settings changed (labels, annotations, outputs or options)")
	}
	return out
}

func contextReason(old, now Record) string {
	where := now.ContextPath
	if where == "" || where == "." {
		where = "."
	} else {
		where += "/"
	}
	if old.Files == nil || now.Files == nil {
		n := max(old.FileCount, now.FileCount)
		return fmt.Sprintf("context %s changed (%d files listed; too many to name)", where, n)
	}
	var changed []string
	for _, p := range keys.Union(old.Files, now.Files) {
		if old.Files[p] != now.Files[p] {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return fmt.Sprintf("context %s changed", where)
	}
	names := changed
	if len(names) > mostFiles {
		names = append(slices.Clone(names[:mostFiles]), "…")
	}
	noun := "files"
	if len(changed) == 1 {
		noun = "file"
	}
	return fmt.Sprintf("context %s changed (%d %s: %s)", where, len(changed), noun, strings.Join(names, ", "))
}

func orDefault(s string) string {
	if s == "" {
		return "(default)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(last)"
	}
	return s
}

func familiar(ref string) string {
	prefix := ""
	if rest, ok := strings.CutPrefix(ref, "syntax "); ok {
		prefix, ref = "frontend ", rest
	}
	return prefix + plan.FamiliarRef(ref)
}
