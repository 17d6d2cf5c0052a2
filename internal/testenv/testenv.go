// Package testenv gives tests the real environment scripts/testenv brings
// up. A test that needs it skips when it is absent under a plain go test,
// and fails under scripts/test (BAKEPLAN_TEST_STRICT) or when CI is set, so
// that neither can pass by skipping.
package testenv

import (
	"os"
	"testing"
)

// Env is the environment's coordinates, from scripts/testenv up.
type Env struct {
	Buildkit   string // BAKEPLAN_TEST_BUILDKIT, a unix:// address
	Registry   string // BAKEPLAN_TEST_REGISTRY, host:port
	DockerHost string // BAKEPLAN_TEST_DOCKER_HOST
	Base       string // BAKEPLAN_TEST_BASE, a two-platform base image
	Bin        string // BAKEPLAN_TEST_BIN, the servers' binaries
	Containerd string // BAKEPLAN_TEST_CONTAINERD, its socket

	// A registry that speaks TLS with a private CA and wants a login, and
	// a buildkitd that trusts the CA.
	TLSRegistry string // BAKEPLAN_TEST_TLS_REGISTRY, host:port
	TLSCA       string // BAKEPLAN_TEST_TLS_CA, the CA certificate
	TLSBuildkit string // BAKEPLAN_TEST_TLS_BUILDKIT
	// FleetNode is a second amd64 buildkitd and ArmNode one whose worker
	// declares linux/arm64 as its native platform (running arm64 binaries
	// through this host's binfmt_misc, standing in for an arm64 machine),
	// for builder pools: BAKEPLAN_TEST_FLEET_NODE, BAKEPLAN_TEST_ARM_NODE.
	FleetNode, ArmNode string
	// SSH is the second node reached over ssh:// (BAKEPLAN_TEST_SSH), and
	// SSHBin a directory to put first on PATH for the ssh client that
	// knows its key (BAKEPLAN_TEST_SSH_BIN).
	SSH, SSHBin string
	// DockerContainer is a buildkitd in a container of the test Docker
	// Engine, as docker-container://NAME (BAKEPLAN_TEST_DOCKER_CONTAINER).
	DockerContainer string
	TLSUser         string // BAKEPLAN_TEST_TLS_USER
	TLSPassword     string // BAKEPLAN_TEST_TLS_PASSWORD
}

// Get returns the environment, or skips (fails under CI) without it.
func Get(t testing.TB) Env {
	t.Helper()
	e := Env{
		Buildkit:   os.Getenv("BAKEPLAN_TEST_BUILDKIT"),
		Registry:   os.Getenv("BAKEPLAN_TEST_REGISTRY"),
		DockerHost: os.Getenv("BAKEPLAN_TEST_DOCKER_HOST"),
		Base:       os.Getenv("BAKEPLAN_TEST_BASE"),
		Bin:        os.Getenv("BAKEPLAN_TEST_BIN"),
		Containerd: os.Getenv("BAKEPLAN_TEST_CONTAINERD"),

		TLSRegistry: os.Getenv("BAKEPLAN_TEST_TLS_REGISTRY"),
		TLSCA:       os.Getenv("BAKEPLAN_TEST_TLS_CA"),
		TLSBuildkit: os.Getenv("BAKEPLAN_TEST_TLS_BUILDKIT"),
		FleetNode:   os.Getenv("BAKEPLAN_TEST_FLEET_NODE"),
		ArmNode:     os.Getenv("BAKEPLAN_TEST_ARM_NODE"),
		SSH:         os.Getenv("BAKEPLAN_TEST_SSH"),
		SSHBin:      os.Getenv("BAKEPLAN_TEST_SSH_BIN"),

		DockerContainer: os.Getenv("BAKEPLAN_TEST_DOCKER_CONTAINER"),
		TLSUser:         os.Getenv("BAKEPLAN_TEST_TLS_USER"),
		TLSPassword:     os.Getenv("BAKEPLAN_TEST_TLS_PASSWORD"),
	}
	if e.Buildkit == "" || e.Registry == "" || e.DockerHost == "" || e.Base == "" || e.Bin == "" || e.Containerd == "" ||
		e.TLSRegistry == "" || e.TLSCA == "" || e.TLSBuildkit == "" || e.TLSUser == "" || e.TLSPassword == "" ||
		e.FleetNode == "" || e.ArmNode == "" || e.SSH == "" || e.SSHBin == "" ||
		e.DockerContainer == "" {
		Missing(t, "the test environment")
	}
	return e
}

// Missing skips the test for want, or fails it under scripts/test or CI.
func Missing(t testing.TB, want string) {
	t.Helper()
	if os.Getenv("BAKEPLAN_TEST_STRICT") != "" || os.Getenv("CI") != "" {
		t.Fatalf("%s is missing, and scripts/test and CI never pass by skipping; scripts/testenv up brings it up (as root)", want)
	}
	t.Skipf("needs %s: run eval \"$(scripts/testenv up)\" as root", want)
}
