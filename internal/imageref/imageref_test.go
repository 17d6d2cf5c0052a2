package imageref

import "testing"

func TestContextName(t *testing.T) {
	for in, want := range map[string]string{
		"alpine":                           "alpine",
		"docker.io/library/alpine:latest":  "alpine",
		"golang:1.26":                      "golang:1.26",
		"docker.io/library/golang:1.26":    "golang:1.26",
		"127.0.0.1:5000/busybox:latest":    "127.0.0.1:5000/busybox",
		"registry.example.com/team/app:v1": "registry.example.com/team/app:v1",
		"not a reference":                  "not a reference",
	} {
		if got := ContextName(in); got != want {
			t.Errorf("ContextName(%q) = %q, want %q", in, got, want)
		}
	}
}
