package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/host"
)

// HostChange is the line for a host change as it is made.
func HostChange(w io.Writer, st *plan.Step) {
	fmt.Fprintf(terminalWriter{w}, "%s %s: %s\n", st.Change.Symbol, st.ID, st.Change.Summary)
}

// HostPreview writes exactly what apply would write to the host.
func HostPreview(w io.Writer, actions []host.Action) {
	w = terminalWriter{w}
	for _, a := range actions {
		fmt.Fprintf(w, "%s %s: %s\n", a.Step.Change.Symbol, a.Step.ID, a.Step.Change.Summary)
		for _, wr := range a.Writes {
			switch {
			case wr.From != "":
				fmt.Fprintf(w, "  copy %s to %s\n", wr.From, wr.Path)
			case strings.Contains(wr.Content, "\n"):
				fmt.Fprintf(w, "  write %s:\n", wr.Path)
				for _, line := range strings.Split(strings.TrimRight(wr.Content, "\n"), "\n") {
					fmt.Fprintf(w, "    %s\n", line)
				}
			case strings.HasSuffix(wr.Path, "/register"):
				fmt.Fprintf(w, "  write to %s:\n    %s\n", wr.Path, wr.Content)
			default:
				fmt.Fprintf(w, "  write %q to %s\n", wr.Content, wr.Path)
			}
		}
		if a.Run != nil {
			fmt.Fprintf(w, "  run %q, wait for Docker, check the image store\n", a.Run)
		}
	}
}
