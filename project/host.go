package project

import (
	"fmt"
	"os"
	"strings"

	"github.com/bakeplan/bakeplan/compiler"
	"github.com/bakeplan/bakeplan/runtime/host"
)

// UninstallRequest asks to remove QEMU emulators from binfmt_misc.
type UninstallRequest struct {
	Archs []string
	// Approve is asked, with the entries and where they are, before
	// anything is removed; nil approves. Removed hears each entry removed.
	Approve func(entries []string, dir string) error
	Removed func(entry string)
}

// UninstallEmulators removes the binfmt_misc entries of the architectures
// named, once approved; an unknown architecture or a user who is not root
// changes nothing.
func UninstallEmulators(req UninstallRequest) error {
	b := host.DefaultBinfmt()
	var entries []string
	for _, arch := range req.Archs {
		e, ok := compiler.EmulatorEntry(arch)
		if !ok {
			return fmt.Errorf("%q is not an architecture bakeplan knows", arch)
		}
		entries = append(entries, e)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("removing %s needs root", strings.Join(entries, ", "))
	}
	if req.Approve != nil {
		if err := req.Approve(entries, b.Dir); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := b.Unregister(e); err != nil {
			return err
		}
		if req.Removed != nil {
			req.Removed(e)
		}
	}
	return nil
}
