package views

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bakeplan/bakeplan/runtime/apply"
)

// ApplySummary writes what a run built and tagged: a table of the builds
// and a line per tag.
func ApplySummary(w io.Writer, sum *apply.Summary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nTARGET\tPLATFORMS\tDIGEST\tRESULT\tDURATION")
	for _, b := range sum.Builds {
		result := "built"
		switch {
		case b.UpToDate:
			result = "up to date"
		case b.Skipped:
			result = "skipped"
		case b.Error != "":
			result = "failed"
		case b.Call != nil:
			result = b.Call.Name
		case b.Cached:
			result = "cached"
		}
		digest := b.Digest
		if digest == "" {
			digest = "-"
		}
		printf(tw, "%s\t%s\t%s\t%s\t%s\n", b.Target, strings.Join(b.Platforms, ","), digest, result, b.Duration.Round(10*time.Millisecond))
	}
	tw.Flush()
	moves(w, sum)
	for _, b := range sum.Builds {
		if b.Call == nil {
			continue
		}
		printf(w, "\n%s (call %s):\n", b.Target, b.Call.Name)
		text := strings.Trim(b.Call.Text, "\n")
		switch {
		case text == "" && b.Call.Name == "check" && b.Call.Status == 0:
			text = "Check complete, no warnings found."
		case text == "":
			// outline answers in JSON only.
			text = strings.Trim(b.Call.JSON, "\n")
		}
		if text == "" {
			text = "(no answer)"
		}
		for _, line := range strings.Split(text, "\n") {
			printf(w, "  %s\n", line)
		}
	}
	for _, pb := range sum.Published {
		switch {
		case pb.Unchanged:
			printf(w, "%s already points at %s", pb.Tag, pb.Digest)
		default:
			printf(w, "tagged %s -> %s", pb.Tag, pb.Digest)
		}
		if pb.Now != "" {
			printf(w, "; %s", pb.Now)
		}
		printf(w, "\n")
	}
}

// moves says which builds moved off a pool node lost mid-build, where to
// and why.
func moves(w io.Writer, sum *apply.Summary) {
	first := true
	for _, b := range sum.Builds {
		for _, m := range b.Moved {
			if first {
				printf(w, "\nBuilds moved to another node of their pool:\n")
				first = false
			}
			printf(w, "  %s: %s -> %s (%s)\n", b.Step, m.From, m.To, m.Why)
		}
	}
}
