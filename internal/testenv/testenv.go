// Package testenv gives tests the real environment scripts/testenv brings
// up. A test that needs it skips when it is absent, and fails when CI is set,
// so that CI can never pass by skipping.
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
	}
	if e.Buildkit == "" || e.Registry == "" || e.DockerHost == "" || e.Base == "" || e.Bin == "" || e.Containerd == "" {
		Missing(t, "the test environment")
	}
	return e
}

// Missing skips the test for want, or fails it when CI is set.
func Missing(t testing.TB, want string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but %s is missing; .ci/run brings it up with scripts/testenv up", want)
	}
	t.Skipf("needs %s: run eval \"$(scripts/testenv up)\" as root", want)
}
