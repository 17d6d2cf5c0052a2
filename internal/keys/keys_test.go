package keys

import (
	"slices"
	"testing"
)

func TestUnion(t *testing.T) {
	got := Union(map[string]int{"b": 1, "a": 2}, map[string]int{"c": 3, "a": 4})
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Union = %v", got)
	}
	if got := Union[int](nil, nil); len(got) != 0 {
		t.Errorf("Union of nothing = %v", got)
	}
}
