package testdocker_test

import (
	"net"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testdocker"
	"github.com/bakeplan/bakeplan/internal/testenv"
)

// TestEngineLeavesHostBridge: a test engine must not touch the host's
// docker0, the bridge the environment's own engine runs RUN steps on.
func TestEngineLeavesHostBridge(t *testing.T) {
	testenv.Get(t)
	if _, err := net.InterfaceByName("docker0"); err != nil {
		t.Fatalf("the environment's engine has no docker0 bridge before the test: %v", err)
	}
	testdocker.StartGraphDriver(t)
	if _, err := net.InterfaceByName("docker0"); err != nil {
		t.Errorf("starting a test engine removed docker0: %v", err)
	}
}
