package spec

import (
	"slices"
	"testing"

	"github.com/bakeplan/bakeplan/targetattr"
)

// TestStructuralAttributesAreParsed: every attribute targetattr calls
// structural is one decodeTarget reads itself; any other would fall into
// Attrs and be evaluated as a value of no type.
func TestStructuralAttributesAreParsed(t *testing.T) {
	parsed := []string{attrInherits, attrDependsOn, attrContexts, attrBuilder, attrMatrix, attrName}
	var structural []string
	for _, a := range targetattr.All {
		if a.Structural() {
			structural = append(structural, a.Name)
		}
	}
	slices.Sort(parsed)
	slices.Sort(structural)
	if !slices.Equal(parsed, structural) {
		t.Errorf("decodeTarget reads %v itself; targetattr calls %v structural", parsed, structural)
	}
}
