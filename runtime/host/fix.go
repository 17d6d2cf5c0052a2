package host

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
)

// Changes returns the host steps whose Change apply would make, in order.
func Changes(p *plan.Plan) []*plan.Step {
	var out []*plan.Step
	for _, st := range p.Steps {
		if st.Change != nil {
			out = append(out, st)
		}
	}
	return out
}

// Fix makes the plan's host changes and checks each took effect. The caller
// must have the user's approval, and consent for destructive changes.
func Fix(ctx context.Context, p *plan.Plan, opts Options, out io.Writer) error {
	for _, st := range Changes(p) {
		fmt.Fprintf(out, "%s %s: %s\n", st.Change.Symbol, st.ID, st.Change.Summary)
		switch {
		case st.Emulator != nil:
			e := st.Emulator
			if err := opts.Binfmt.Register(e.Arch, e.Interpreter); err != nil {
				return fmt.Errorf("%s: %w", st.ID, err)
			}
			if s := opts.Binfmt.Probe(ctx, e.Arch, e.Interpreter); !s.OK() {
				return fmt.Errorf("%s: registered, but a %s binary still does not run: %s", st.ID, e.Arch, s.ExecError)
			}
		case st.Docker != nil:
			if err := SwitchToContainerdStore(ctx, opts.Daemon, opts.Env.DockerHost); err != nil {
				return fmt.Errorf("%s: %w", st.ID, err)
			}
		default:
			return fmt.Errorf("%s: bakeplan cannot change this", st.ID)
		}
		st.Change = nil
		st.Action = plan.ActionNoop
	}
	return nil
}

// Preview writes exactly what Fix would write to the host: the binfmt_misc
// registration lines and the new daemon.json.
func Preview(p *plan.Plan, opts Options, out io.Writer) error {
	for _, st := range Changes(p) {
		fmt.Fprintf(out, "%s %s: %s\n", st.Change.Symbol, st.ID, st.Change.Summary)
		switch {
		case st.Emulator != nil:
			if st.Change.Symbol != "+" {
				fmt.Fprintf(out, "  write \"-1\" to %s/%s\n", opts.Binfmt.Dir, st.Emulator.Interpreter)
			}
			fmt.Fprintf(out, "  write to %s/register:\n    %s\n", opts.Binfmt.Dir, st.Change.After)
		case st.Docker != nil:
			before, after, err := ContainerdStoreConfig(opts.Daemon.Path)
			if err != nil {
				return fmt.Errorf("%s: %w", st.ID, err)
			}
			if before != nil {
				fmt.Fprintf(out, "  copy %s to %s.bakeplan-backup\n", opts.Daemon.Path, opts.Daemon.Path)
			}
			fmt.Fprintf(out, "  write %s:\n%s", opts.Daemon.Path, indent(string(after), "    "))
			fmt.Fprintf(out, "  run %q, wait for Docker, check the image store\n", opts.Daemon.RestartCommand)
		}
	}
	return nil
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}
