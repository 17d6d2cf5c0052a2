package views

import (
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/host"
)

// HostChange is the line for a host change as it is made.
func HostChange(w io.Writer, st *plan.Step) {
	printf(w, "%s %s: %s\n", st.Change.Symbol, st.ID, st.Change.Summary)
}

// HostPreview writes exactly what apply would write to the host.
func HostPreview(w io.Writer, actions []host.Action) {
	for _, a := range actions {
		HostChange(w, a.Step)
		for _, wr := range a.Writes {
			switch {
			case wr.From != "":
				printf(w, "  copy %s to %s\n", wr.From, wr.Path)
			case strings.Contains(wr.Content, "\n"):
				printf(w, "  write %s:\n", wr.Path)
				for _, line := range strings.Split(strings.TrimRight(wr.Content, "\n"), "\n") {
					printf(w, "    %s\n", line)
				}
			case strings.HasSuffix(wr.Path, "/register"):
				printf(w, "  write to %s:\n    %s\n", wr.Path, wr.Content)
			default:
				printf(w, "  write %q to %s\n", wr.Content, wr.Path)
			}
		}
		if a.Run != nil {
			printf(w, "  run %q, wait for Docker, check the image store\n", a.Run)
		}
	}
}
