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
	for _, pb := range sum.Published {
		if pb.Unchanged {
			printf(w, "%s already points at %s\n", pb.Tag, pb.Digest)
			continue
		}
		printf(w, "tagged %s -> %s\n", pb.Tag, pb.Digest)
	}
}
