package host_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/runtime/host"
)

// These tests change the real binfmt_misc of the machine. They use riscv64,
// which nothing else in the suite needs, so that they can run beside the
// end-to-end builds that rely on arm64.
const (
	arch  = "riscv64"
	entry = "qemu-riscv64"
)

func needBinfmt(t *testing.T) host.Binfmt {
	t.Helper()
	if _, err := os.Stat("/usr/lib/binfmt.d/" + entry + ".conf"); os.Geteuid() != 0 || err != nil {
		testenv.Missing(t, "root and qemu-user-static")
	}
	return host.DefaultBinfmt()
}

func TestRegisterProbeUninstall(t *testing.T) {
	b := needBinfmt(t)
	t.Cleanup(func() { b.Unregister(entry) })

	if err := b.Unregister(entry); err != nil {
		t.Fatal(err)
	}
	st := b.Probe(context.Background(), arch, entry)
	if st.Registered || st.Executes || st.OK() {
		t.Fatalf("after uninstall: %+v", st)
	}

	if err := b.Register(arch, entry); err != nil {
		t.Fatal(err)
	}
	st = b.Probe(context.Background(), arch, entry)
	if !st.OK() {
		t.Fatalf("after register: %+v", st)
	}

	// An entry without F works for the host but not in a container: the
	// probe must see it, and Register must replace it.
	line, err := b.Registration(arch, entry)
	if err != nil {
		t.Fatal(err)
	}
	noF := line[:strings.LastIndex(line, ":")+1] + strings.ReplaceAll(line[strings.LastIndex(line, ":")+1:], "F", "")
	if err := b.Unregister(entry); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.Dir+"/register", []byte(noF), 0o200); err != nil {
		t.Fatal(err)
	}
	st = b.Probe(context.Background(), arch, entry)
	if !st.Registered || strings.Contains(st.Flags, "F") || st.Executes || st.OK() {
		t.Fatalf("an entry without F: %+v", st)
	}
	if err := b.Register(arch, entry); err != nil {
		t.Fatal(err)
	}
	if st = b.Probe(context.Background(), arch, entry); !st.OK() || !strings.Contains(st.Flags, "F") {
		t.Fatalf("after replacing: %+v", st)
	}

	if err := b.Unregister(entry); err != nil {
		t.Fatal(err)
	}
	if st = b.Probe(context.Background(), arch, entry); st.Registered {
		t.Fatalf("after the last uninstall: %+v", st)
	}
}

func TestRegistrationWithoutQEMU(t *testing.T) {
	b := host.Binfmt{Dir: t.TempDir(), ConfDirs: []string{t.TempDir()}}
	_, err := b.Registration("arm64", "qemu-aarch64")
	if err == nil || !strings.Contains(err.Error(), "tonistiigi/binfmt --install arm64") || !strings.Contains(err.Error(), "qemu-user-static") {
		t.Errorf("error %v; want one that says what to install or run", err)
	}
}
