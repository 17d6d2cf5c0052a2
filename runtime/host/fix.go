package host

import (
	"context"
	"fmt"

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
//
// progress, when set, is told of each change before it is made.
func Fix(ctx context.Context, p *plan.Plan, opts Options, progress func(*plan.Step)) error {
	for _, st := range Changes(p) {
		if progress != nil {
			progress(st)
		}
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

// Action is exactly what Fix does for one step: files written (in order)
// and the command run after them.
type Action struct {
	Step   *plan.Step
	Writes []Write
	Run    []string // a command, after the writes; nil for none
}

// Write is one file Fix writes, or copies when From is set.
type Write struct {
	Path    string
	Content string
	From    string // a backup: Path gets a copy of From
}

// Preview returns what Fix would do, change by change, without doing it:
// the binfmt_misc registration lines and the new daemon.json.
func Preview(p *plan.Plan, opts Options) ([]Action, error) {
	var out []Action
	for _, st := range Changes(p) {
		a := Action{Step: st}
		switch {
		case st.Emulator != nil:
			if st.Change.Symbol != "+" {
				a.Writes = append(a.Writes, Write{Path: opts.Binfmt.Dir + "/" + st.Emulator.Interpreter, Content: "-1"})
			}
			a.Writes = append(a.Writes, Write{Path: opts.Binfmt.Dir + "/register", Content: st.Change.After})
		case st.Docker != nil:
			before, after, err := ContainerdStoreConfig(opts.Daemon.Path)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", st.ID, err)
			}
			if before != nil {
				a.Writes = append(a.Writes, Write{Path: opts.Daemon.Path + ".bakeplan-backup", From: opts.Daemon.Path})
			}
			a.Writes = append(a.Writes, Write{Path: opts.Daemon.Path, Content: string(after)})
			a.Run = opts.Daemon.RestartCommand
		}
		out = append(out, a)
	}
	return out, nil
}
