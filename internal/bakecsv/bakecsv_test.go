package bakecsv

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// TestElement: bake's CSV forms, as buildx v0.38.2's buildflags read them.
func TestElement(t *testing.T) {
	for _, tc := range []struct{ attr, in, want string }{
		{"output", "./bin", "dest=./bin type=local"},
		{"output", "type=image,push=true", "push=true type=image"},
		{"output", "type=cacheonly", "type=cacheonly"},
		{"cache_from", "user/app:cache", "ref=user/app:cache type=registry"},
		{"cache_to", "type=inline", "type=inline"},
		{"cache_to", `type=registry,"ref=r/a:c",mode=max`, "mode=max ref=r/a:c type=registry"},
		{"attest", "type=provenance,mode=max", "mode=max type=provenance"},
		{"secret", "id=npm,env=NPM_TOKEN", "env=NPM_TOKEN id=npm"},
		{"secret", "id=netrc,src=/a", "file=/a id=netrc"},
		{"secret", "type=env,id=aws,src=AWS_KEY", "env=AWS_KEY id=aws"},
		{"secret", "type=env,id=GH_TOKEN", "env=GH_TOKEN id=GH_TOKEN"},
		{"ssh", "default", "id=default"},
		{"ssh", "deploy=/a,/b", "id=deploy paths=/a,/b"},
	} {
		v, err := Element(tc.attr, tc.in)
		if err != nil {
			t.Errorf("%s %q: %v", tc.attr, tc.in, err)
			continue
		}
		if got := flat(v); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.attr, tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ attr, in, want string }{
		{"output", "-", "tar stream"},
		{"secret", "id=x,bogus=1", "not bogus"},
		{"secret", "type=ssh,id=x", "type is env or file"},
		{"cache_from", "type=registry,ref", "is not key=value"},
		{"output", `type="unterminated`, "not key=value pairs"},
	} {
		if _, err := Element(tc.attr, tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v, want %q", tc.attr, tc.in, err, tc.want)
		}
	}
}

func flat(v cty.Value) string {
	var parts []string
	it := v.ElementIterator()
	for it.Next() {
		k, e := it.Element()
		s := ""
		if e.Type() == cty.String {
			s = e.AsString()
		} else {
			var ps []string
			for _, p := range e.AsValueSlice() {
				ps = append(ps, p.AsString())
			}
			s = strings.Join(ps, ",")
		}
		parts = append(parts, k.AsString()+"="+s)
	}
	return strings.Join(parts, " ")
}
