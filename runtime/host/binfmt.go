// Package host probes and fixes what a multi-platform build needs from the
// machine: QEMU emulators registered in binfmt_misc, Docker's image store,
// builders that serve the planned platforms, and registries that answer.
//
// Probes only read. Fixes change the host and are called only after the
// user approved them.
package host

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Binfmt is a binfmt_misc mount and the registration files QEMU ships.
type Binfmt struct {
	// Dir is the binfmt_misc mount, /proc/sys/fs/binfmt_misc by default.
	Dir string
	// ConfDirs hold NAME.conf registration lines (systemd's binfmt.d
	// format), searched in order.
	ConfDirs []string
}

// DefaultBinfmt is the host's binfmt_misc and Debian's QEMU files.
func DefaultBinfmt() Binfmt {
	return Binfmt{Dir: "/proc/sys/fs/binfmt_misc", ConfDirs: []string{"/etc/binfmt.d", "/usr/lib/binfmt.d", "/run/binfmt.d"}}
}

// EmulatorState is what a probe found for one emulator.
type EmulatorState struct {
	Entry             string // binfmt_misc entry name, e.g. qemu-aarch64
	Mounted           bool
	Registered        bool
	Enabled           bool
	Flags             string
	Interpreter       string
	InterpreterExists bool
	// Executes says whether a static binary of the architecture really runs
	// in a chroot without the interpreter, as it must inside a container.
	Executes  bool
	ExecError string
}

// OK reports whether the emulator is usable for container builds.
func (s EmulatorState) OK() bool {
	return s.Registered && s.Enabled && strings.Contains(s.Flags, "F") && s.InterpreterExists && s.Executes
}

// Probe reads the entry for an architecture and runs a foreign binary.
func (b Binfmt) Probe(ctx context.Context, arch, entry string) EmulatorState {
	st := EmulatorState{Entry: entry, Mounted: b.mounted()}
	if !st.Mounted {
		return st
	}
	data, err := os.ReadFile(filepath.Join(b.Dir, entry))
	if err == nil {
		st.Registered = true
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "enabled":
				st.Enabled = true
			case strings.HasPrefix(line, "interpreter "):
				st.Interpreter = strings.TrimPrefix(line, "interpreter ")
			case strings.HasPrefix(line, "flags: "):
				st.Flags = strings.TrimPrefix(line, "flags: ")
			}
		}
		if st.Interpreter != "" {
			_, err := os.Stat(st.Interpreter)
			st.InterpreterExists = err == nil
		}
	}
	if err := Executes(ctx, arch); err != nil {
		st.ExecError = err.Error()
	} else {
		st.Executes = true
	}
	return st
}

func (b Binfmt) mounted() bool {
	_, err := os.Stat(filepath.Join(b.Dir, "register"))
	return err == nil
}

// Registration returns the line that registers entry with the F flag, from
// the registration files of the installed QEMU. The error says what to
// install when there is none.
func (b Binfmt) Registration(arch, entry string) (string, error) {
	for _, dir := range b.ConfDirs {
		data, err := os.ReadFile(filepath.Join(dir, entry+".conf"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
				continue
			}
			// :name:type:offset:magic:mask:interpreter:flags
			fields := strings.Split(line, ":")
			if len(fields) != 8 || fields[1] != entry {
				return "", fmt.Errorf("%s: not a binfmt_misc registration for %s", filepath.Join(dir, entry+".conf"), entry)
			}
			if _, err := os.Stat(fields[6]); err != nil {
				return "", fmt.Errorf("%s names the interpreter %s, which is missing: reinstall qemu-user-static", filepath.Join(dir, entry+".conf"), fields[6])
			}
			if !strings.Contains(fields[7], "F") {
				// F loads the interpreter now, so it works in containers
				// whose filesystem does not have it.
				fields[7] += "F"
			}
			return strings.Join(fields, ":"), nil
		}
	}
	return "", fmt.Errorf("no QEMU emulator for %s is installed on this host: install it (apt-get install qemu-user-static), "+
		"or register it through Docker with: docker run --privileged --rm tonistiigi/binfmt --install %s", arch, arch)
}

// Register registers the emulator with the F flag, replacing an entry
// without it. It mounts binfmt_misc first when needed.
func (b Binfmt) Register(arch, entry string) error {
	line, err := b.Registration(arch, entry)
	if err != nil {
		return err
	}
	if !b.mounted() {
		if err := unix.Mount("binfmt_misc", b.Dir, "binfmt_misc", 0, ""); err != nil {
			return fmt.Errorf("mounting binfmt_misc at %s: %w", b.Dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Dir, entry)); err == nil {
		if err := b.Unregister(entry); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "register"), []byte(line), 0o200); err != nil {
		return fmt.Errorf("registering %s: %w", entry, err)
	}
	return nil
}

// Unregister removes an entry; a missing entry is not an error.
func (b Binfmt) Unregister(entry string) error {
	path := filepath.Join(b.Dir, entry)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.WriteFile(path, []byte("-1"), 0o200); err != nil {
		return fmt.Errorf("removing %s: %w", entry, err)
	}
	return nil
}

// Executes runs a static binary of arch in an empty chroot, the way BuildKit
// checks emulators: only an entry with the F flag, whose interpreter the
// kernel already holds, can run it there. It needs root.
func Executes(ctx context.Context, arch string) error {
	if arch == runtime.GOARCH {
		return nil // the host's own architecture runs natively
	}
	bin, ok := testBinaries[arch]
	if !ok {
		return fmt.Errorf("no test binary for %s on a %s host", arch, runtime.GOARCH)
	}
	dir, err := os.MkdirTemp("", "bakeplan-binfmt-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	zr, err := gzip.NewReader(strings.NewReader(bin))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "check"), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o700)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, zr); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "/check")
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir}
	err = cmd.Run()
	if arch == "amd64" {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() >= 64 {
			return nil
		}
		if err == nil {
			return errors.New("unexpected exit code 0")
		}
	}
	if err != nil {
		return fmt.Errorf("a %s binary does not run: %w", arch, err)
	}
	return nil
}
