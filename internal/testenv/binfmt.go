package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// binfmtDir is where the kernel's binfmt_misc entries live.
const binfmtDir = "/proc/sys/fs/binfmt_misc"

// lockBinfmt holds a lock on the machine's binfmt_misc entries until the
// test ends: go test runs the packages' test binaries in parallel, and a
// test that disables an emulator must not run while another test's build
// needs it. how is syscall.LOCK_SH or syscall.LOCK_EX.
func lockBinfmt(t testing.TB, how int) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "bakeplan-test-binfmt.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("opening the binfmt_misc test lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("taking the binfmt_misc test lock: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	})
}

// Emulates declares that the test's builds run RUN steps under emulation:
// no test changes binfmt_misc until it ends.
func Emulates(t testing.TB) { lockBinfmt(t, syscall.LOCK_SH) }

// ChangesBinfmt declares that the test registers, removes or disables
// binfmt_misc entries: it waits for the builds that emulate, and none
// starts until it ends.
func ChangesBinfmt(t testing.TB) { lockBinfmt(t, syscall.LOCK_EX) }

// WithoutEmulators disables the named binfmt_misc entries (qemu-aarch64,
// ...) for the rest of the test and enables again, when it ends, failed or
// not, those that were enabled. An entry that is not registered is
// already no emulator. It takes the binfmt_misc lock (ChangesBinfmt).
func WithoutEmulators(t testing.TB, entries ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root, to disable binfmt_misc entries")
	}
	ChangesBinfmt(t)
	for _, e := range entries {
		p := filepath.Join(binfmtDir, e)
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		if !strings.HasPrefix(string(b), "enabled") {
			continue
		}
		if err := os.WriteFile(p, []byte("0"), 0); err != nil {
			t.Fatalf("disabling %s: %v", e, err)
		}
		t.Cleanup(func() {
			if err := os.WriteFile(p, []byte("1"), 0); err != nil {
				t.Errorf("enabling %s again: %v", e, err)
			}
		})
	}
}
