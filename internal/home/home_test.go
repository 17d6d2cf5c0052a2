package home

import (
	"path/filepath"
	"testing"
)

func TestExpand(t *testing.T) {
	t.Setenv("HOME", "/h")
	for in, want := range map[string]string{
		"~/certs/ca.pem": filepath.Join("/h", "certs/ca.pem"),
		"/abs/ca.pem":    "/abs/ca.pem",
		"rel/~/x":        "rel/~/x",
		"~user/x":        "~user/x",
	} {
		if got := Expand(in); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}
