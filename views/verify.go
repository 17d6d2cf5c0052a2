package views

import (
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/runtime/imagediff"
	"github.com/bakeplan/bakeplan/runtime/verify"
)

// Verify writes what bakeplan verify found: = for a platform whose rebuilt
// image is the published one, ≠ with what differs for one that is not,
// then the attestations and a summary line.
func Verify(w io.Writer, r *verify.Result) {
	on := "the builders the plan assigns"
	if r.Builder != "" {
		on = "builder." + r.Builder
	}
	printf(w, "Rebuilt without cache on %s; nothing was pushed or tagged.\n", on)
	same, differ := 0, 0
	for _, t := range r.Targets {
		printf(w, "\n%s, against %s\n", t.Step, t.Against)
		for _, p := range t.Platforms {
			switch {
			case p.Identical:
				same++
				printf(w, "  = %s %s\n", p.Platform, p.Published)
			case p.Published == "":
				differ++
				printf(w, "  ≠ %s only in the rebuild (%s)\n", p.Platform, p.Rebuilt)
			case p.Rebuilt == "":
				differ++
				printf(w, "  ≠ %s only in the release (%s)\n", p.Platform, p.Published)
			default:
				differ++
				printf(w, "  ≠ %s published %s, rebuilt %s\n", p.Platform, p.Published, p.Rebuilt)
				diffText(w, p.Diff)
			}
		}
		switch t.Attestations {
		case "different":
			printf(w, "  attestations differ (provenance records build times; the images above are what must match)\n")
		case "identical":
			printf(w, "  attestations identical\n")
		}
	}
	verdict := "identical"
	if differ > 0 {
		verdict = "NOT identical"
	}
	printf(w, "\nVerify: %d platform image(s) identical, %d different: the release is %s to its rebuild.\n", same, differ, verdict)
}

func diffText(w io.Writer, d *imagediff.Report) {
	if d == nil {
		return
	}
	for _, c := range d.Config {
		printf(w, "      config %s: %s → %s\n", c.Path, c.Before, c.After)
	}
	for _, l := range d.Layers {
		switch {
		case l.Before == "":
			printf(w, "      layer %d only in the rebuild: %s\n", l.Index, l.After)
			continue
		case l.After == "":
			printf(w, "      layer %d only in the release: %s\n", l.Index, l.Before)
			continue
		}
		printf(w, "      layer %d: %s → %s\n", l.Index, l.Before, l.After)
		for _, f := range l.Files {
			var fields []string
			for _, c := range f.Fields {
				fields = append(fields, c.Path+" "+c.Before+" → "+c.After)
			}
			line := "        " + f.Change + " " + f.Path
			if len(fields) > 0 {
				line += ": " + strings.Join(fields, "; ")
			}
			printf(w, "%s\n", line)
		}
		if l.More > 0 {
			printf(w, "        and %d more files\n", l.More)
		}
	}
}
