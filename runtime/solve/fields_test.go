package solve_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testfill"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/solve"
	"github.com/bakeplan/bakeplan/targetattr"
)

// requestSamples set, for every attribute that becomes a field of a build
// and is sent by code of its own, a value BuildKit would take. An
// attribute whose row names its Frontend option needs none: any value is
// sent as it is.
var requestSamples = map[string]func(*plan.Build){
	"context":           func(b *plan.Build) { b.Context = "sub" },
	"dockerfile":        func(b *plan.Build) { b.Dockerfile = "build/app.Dockerfile" },
	"dockerfile_inline": func(b *plan.Build) { b.DockerfileInline = "FROM scratch\n" },
	"platforms": func(b *plan.Build) {
		b.Platforms = append(b.Platforms, plan.PlatformRun{Platform: "linux/arm64", Emulator: "arm64"})
	},
	"args":        func(b *plan.Build) { b.Args = map[string]string{"V": "1"} },
	"labels":      func(b *plan.Build) { b.Labels = map[string]string{"team": "core"} },
	"annotations": func(b *plan.Build) { b.Annotations = map[string]string{"org.opencontainers.image.title": "app"} },
	"tags":        func(b *plan.Build) { b.Tags = []string{"127.0.0.1:5000/team/app:2"} },
	"push":        func(b *plan.Build) { b.Push = true },
	"output":      func(b *plan.Build) { b.Outputs = []*plan.Output{{Type: "local", Dest: "out"}} },
	"cache_from": func(b *plan.Build) {
		b.CacheFrom = []map[string]string{{"type": "registry", "ref": "r.example.com/cache"}}
	},
	"cache_to":        func(b *plan.Build) { b.CacheTo = []map[string]string{{"type": "inline"}} },
	"secret":          func(b *plan.Build) { b.Secrets = []*plan.Secret{{ID: "npm", Env: "NPM_TOKEN"}} },
	"ssh":             func(b *plan.Build) { b.SSH = []*plan.SSH{{ID: "default"}} },
	"no_cache":        func(b *plan.Build) { b.NoCache = true },
	"network":         func(b *plan.Build) { b.Network = "none" },
	"extra_hosts":     func(b *plan.Build) { b.ExtraHosts = map[string]string{"db.local": "10.0.0.5"} },
	"entitlements":    func(b *plan.Build) { b.Entitlements = []string{"network.host"} },
	"release":         func(b *plan.Build) { b.Release = true },
	"call":            func(b *plan.Build) { b.Call = "check" },
	"attest":          func(b *plan.Build) { b.Attest = []map[string]string{{"type": "sbom"}} },
	"no_cache_filter": func(b *plan.Build) { b.NoCacheFilter = []string{"runtime"} },
	"contexts": func(b *plan.Build) {
		b.Contexts = []*plan.NamedContext{{Name: "alpine", Image: "docker.io/library/alpine:3.20"}}
	},
	"builder": func(b *plan.Build) { b.Builder = "arm" },
}

// TestEveryAttributeReachesBuildKit proves by difference that each
// attribute's field changes what is sent to BuildKit: the request made
// with it set differs from the request made without it.
func TestEveryAttributeReachesBuildKit(t *testing.T) {
	// An OCI export, so that what only an image export reads (tags,
	// annotations) has somewhere to go.
	base := func() *plan.Build {
		return &plan.Build{Target: "app", Builder: "default", Context: ".", Dockerfile: "Dockerfile",
			Platforms: []plan.PlatformRun{{Platform: "linux/amd64", Native: true}},
			Outputs:   []*plan.Output{{Type: "oci", Dest: "app.tar"}}}
	}
	opts := solve.Options{SpecDir: "/src", Endpoint: "unix:///run/b.sock", Release: &plan.Release{SourceDateEpoch: 1700000000}}
	request := func(b *plan.Build) string {
		r, err := solve.NewRequest(step(b), opts)
		if err != nil {
			t.Fatalf("%+v: %v", b, err)
		}
		return fmt.Sprintf("%+v", *r)
	}
	before := request(base())
	for _, a := range targetattr.All {
		if a.Field == "" {
			continue
		}
		b := base()
		if sample, ok := requestSamples[a.Name]; ok {
			sample(b)
		} else if a.Frontend != "" {
			testfill.NonZero(reflect.ValueOf(b).Elem().FieldByName(a.Field))
		} else {
			t.Errorf("%s becomes plan.Build.%s, but requestSamples has no value for it and its row names no Frontend option", a.Name, a.Field)
			continue
		}
		if reflect.DeepEqual(b, base()) {
			t.Errorf("requestSamples[%s] changes nothing", a.Name)
			continue
		}
		if request(b) == before {
			t.Errorf("%s (plan.Build.%s) does not change the request sent to BuildKit", a.Name, a.Field)
		}
		if a.Frontend != "" {
			r, err := solve.NewRequest(step(b), opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.FrontendAttrs[a.Frontend] == "" {
				t.Errorf("%s is set, but the frontend option %s is empty", a.Name, a.Frontend)
			}
		}
	}
}
