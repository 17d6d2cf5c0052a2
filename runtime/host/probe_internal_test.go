package host

import (
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
)

// Docker Desktop keeps its emulators in its VM; the probe reads its
// builder's platforms instead of this machine's binfmt_misc.
func TestEmulatorThroughDesktopBuilder(t *testing.T) {
	tests := []struct {
		served  []string
		ok      bool
		problem string
	}{
		{[]string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, true, ""},
		{[]string{"linux/amd64"}, false, "tonistiigi/binfmt --install arm64"},
		{[]string{}, false, "Docker Desktop does not emulate arm64"},
	}
	for _, tt := range tests {
		st := &plan.Step{ID: "host.emulator.arm64", Action: plan.ActionEnsure, Emulator: &plan.Emulator{Arch: "arm64", Interpreter: "qemu-aarch64"}}
		var problems []string
		emulatorThroughBuilder(st, tt.served, func(_ *plan.Step, summary, detail string) { problems = append(problems, summary+": "+detail) })
		if tt.ok != (st.Action == plan.ActionNoop) || tt.ok != (len(problems) == 0) {
			t.Errorf("served %v: action %s, problems %v", tt.served, st.Action, problems)
		}
		if tt.problem != "" && (len(problems) == 0 || !strings.Contains(problems[0], tt.problem)) {
			t.Errorf("served %v: problems %v, want %q", tt.served, problems, tt.problem)
		}
		if st.Change != nil {
			t.Errorf("a change was planned for Docker Desktop's VM")
		}
	}
}
