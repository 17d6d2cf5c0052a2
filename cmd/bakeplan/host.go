package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/project"
	"github.com/bakeplan/bakeplan/views"
	"github.com/spf13/cobra"
)

// approveHostChanges asks before changing the host: an interactive yes, or
// --auto-approve; destructive changes also need --allow-destructive, and
// every change needs root.
func (g *globals) approveHostChanges(autoApprove, allowDestructive bool) func(changes []*plan.Step) error {
	return func(changes []*plan.Step) error {
		return g.approve(changes, autoApprove, allowDestructive)
	}
}

func (g *globals) approve(changes []*plan.Step, autoApprove, allowDestructive bool) error {
	var list []string
	for _, st := range changes {
		list = append(list, fmt.Sprintf("  %s %s: %s", st.Change.Symbol, st.ID, st.Change.Summary))
		if st.Change.Destructive && !allowDestructive {
			return fmt.Errorf("%s would %s (%s); that is destructive, so apply needs --allow-destructive as well", st.ID, st.Change.Summary, st.Change.Note)
		}
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("these host changes need root (writing binfmt_misc, daemon.json, restarting Docker):\n%s", strings.Join(list, "\n"))
	}
	if autoApprove {
		return nil
	}
	fmt.Fprintf(g.streams.err, "bakeplan will change this host:\n%s\n\nEnter \"yes\" to go ahead: ", views.Message(strings.Join(list, "\n")))
	answer, _ := bufio.NewReader(g.streams.in).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return fmt.Errorf("host changes not approved; nothing was changed")
	}
	return nil
}

func newHostCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "host",
		Short: "Inspect and change the host's emulators directly",
		// Without this cobra prints the help and exits 0 for a misspelt
		// subcommand (bakeplan host uninstal arm64).
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q\nRun '%s --help' for usage.", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return fmt.Errorf("%s needs a command: uninstall\nRun '%s --help' for usage.", cmd.CommandPath(), cmd.CommandPath())
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	var autoApprove bool
	uninstall := &cobra.Command{
		Use:     "uninstall ARCH...",
		Short:   "Remove QEMU emulators from binfmt_misc",
		Example: "  bakeplan host uninstall riscv64 --auto-approve",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := project.UninstallRequest{
				Archs:   args,
				Removed: func(e string) { fmt.Fprintf(g.streams.out, "- %s removed\n", escape.Terminal(e)) },
			}
			if !autoApprove {
				req.Approve = func(entries []string, dir string) error {
					fmt.Fprintf(g.streams.err, "bakeplan will remove %s from %s.\nEnter \"yes\" to go ahead: ", escape.Terminal(strings.Join(entries, ", ")), escape.Terminal(dir))
					answer, _ := bufio.NewReader(g.streams.in).ReadString('\n')
					if strings.TrimSpace(answer) != "yes" {
						return fmt.Errorf("not approved; nothing was changed")
					}
					return nil
				}
			}
			return project.UninstallEmulators(req)
		},
	}
	uninstall.Flags().BoolVar(&autoApprove, "auto-approve", false, "do not ask")
	cmd.AddCommand(uninstall)
	return cmd
}
