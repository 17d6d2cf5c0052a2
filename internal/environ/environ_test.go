package environ_test

import (
	"testing"

	"github.com/bakeplan/bakeplan/internal/environ"
)

func TestLookup(t *testing.T) {
	env := []string{"A=1", "AB=2", "EMPTY=", "B=x=y", "A=later"}
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{
		{"A", "1", true}, // the first wins, as in os.Environ's order
		{"AB", "2", true},
		{"EMPTY", "", true},
		{"B", "x=y", true},
		{"C", "", false},
		{"", "", false},
	} {
		if got, ok := environ.Lookup(env, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}
