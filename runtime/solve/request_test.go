package solve_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/solve"
)

func step(b *plan.Build, needs ...plan.Edge) *plan.Step {
	return &plan.Step{ID: "build." + b.Target, Action: plan.ActionBuild, Build: b, Needs: needs}
}

// TestNewRequest pins how each plan field becomes a frontend attribute or
// an exporter: the dry run prints exactly this.
func TestNewRequest(t *testing.T) {
	runs := []plan.PlatformRun{{Platform: "linux/amd64", Native: true}, {Platform: "linux/arm64", Emulator: "arm64"}}
	opts := solve.Options{SpecDir: "/src", Endpoint: "unix:///run/b.sock", InsecureRegistries: map[string]bool{"127.0.0.1:5000": true}}
	tests := []struct {
		name    string
		step    *plan.Step
		opts    solve.Options
		attrs   map[string]string
		locals  map[string]string
		exports []solve.Export
	}{
		{
			name: "args, labels, stage, network, no-cache",
			step: step(&plan.Build{
				Target: "app", Builder: "default", Platforms: runs, Context: "app", Dockerfile: "app/Dockerfile",
				Stage: "runtime", Args: map[string]string{"V": "1"}, Labels: map[string]string{"team": "core"},
				Network: "none", NoCache: true,
			}),
			opts: opts,
			attrs: map[string]string{
				"platform": "linux/amd64,linux/arm64", "filename": "Dockerfile", "target": "runtime",
				"build-arg:V": "1", "label:team": "core", "force-network-mode": "none", "no-cache": "",
			},
			locals: map[string]string{"context": "/src/app", "dockerfile": "/src/app"},
		},
		{
			name: "push by digest to every repository, insecure registry, annotations",
			step: step(&plan.Build{
				Target: "app", Platforms: runs, Context: ".", Dockerfile: "build/app.Dockerfile", Push: true,
				Tags:        []string{"127.0.0.1:5000/team/app:1", "127.0.0.1:5000/team/app:latest", "127.0.0.1:5000/mirror/app:1"},
				Annotations: map[string]string{"org.opencontainers.image.title": "app", "index:org.opencontainers.image.description": "d"},
			}),
			opts:   opts,
			attrs:  map[string]string{"platform": "linux/amd64,linux/arm64", "filename": "app.Dockerfile"},
			locals: map[string]string{"context": "/src", "dockerfile": "/src/build"},
			exports: []solve.Export{{Type: "image", Push: true, Attrs: map[string]string{
				"name": "127.0.0.1:5000/mirror/app,127.0.0.1:5000/team/app", "push": "true", "push-by-digest": "true",
				"registry.insecure": "true", "annotation.org.opencontainers.image.title": "app",
				"annotation-index.org.opencontainers.image.description": "d",
			}}},
		},
		{
			name: "named contexts: target, image, directory",
			step: step(&plan.Build{
				Target: "app", Platforms: runs, Context: ".", Dockerfile: "Dockerfile",
				Contexts: []*plan.NamedContext{{Name: "base", Target: "base"}, {Name: "alpine", Image: "alpine:3.20"}, {Name: "assets", Path: "web/assets"}},
			}, plan.Edge{Step: "build.base", Kind: plan.EdgeData, Name: "base"}),
			opts: opts,
			attrs: map[string]string{
				"platform": "linux/amd64,linux/arm64", "filename": "Dockerfile",
				"context:base": "oci-layout://(result of build.base)", "context:alpine": "docker-image://alpine:3.20", "context:assets": "local:assets",
			},
			locals: map[string]string{"context": "/src", "dockerfile": "/src", "assets": "/src/web/assets"},
		},
		{
			name: "outputs: oci tarball, local directory, docker load of several platforms",
			step: step(&plan.Build{
				Target: "app", Platforms: runs, Context: ".", Dockerfile: "Dockerfile", Tags: []string{"docker.io/library/app:1"},
				Outputs: []*plan.Output{{Type: "oci", Dest: "out/app.tar"}, {Type: "local", Dest: "out/fs"}, {Type: "docker"}},
			}),
			opts:   opts,
			attrs:  map[string]string{"platform": "linux/amd64,linux/arm64", "filename": "Dockerfile"},
			locals: map[string]string{"context": "/src", "dockerfile": "/src"},
			exports: []solve.Export{
				{Type: "oci", Dest: "/src/out/app.tar", Attrs: map[string]string{"name": "docker.io/library/app:1"}},
				{Type: "local", Dest: "/src/out/fs", Attrs: map[string]string{}},
				{Type: "oci", Load: true, Attrs: map[string]string{"name": "docker.io/library/app:1"}},
			},
		},
		{
			name: "docker endpoint loads through its own store",
			step: step(&plan.Build{
				Target: "app", Platforms: runs[:1], Context: ".", Dockerfile: "Dockerfile", Tags: []string{"docker.io/library/app:1"},
				Outputs: []*plan.Output{{Type: "docker"}},
			}),
			opts:    solve.Options{SpecDir: "/src", Endpoint: "docker", DockerEndpoint: true},
			attrs:   map[string]string{"platform": "linux/amd64", "filename": "Dockerfile"},
			locals:  map[string]string{"context": "/src", "dockerfile": "/src"},
			exports: []solve.Export{{Type: "moby", Attrs: map[string]string{"name": "docker.io/library/app:1"}}},
		},
		{
			name: "locked images: named contexts by familiar name, the frontend by BUILDKIT_SYNTAX, a spec context keeps its name",
			step: step(&plan.Build{
				Target: "app", Platforms: runs, Context: ".", Dockerfile: "Dockerfile",
				Contexts: []*plan.NamedContext{{Name: "tools", Image: "alpine:3.20"}, {Name: "golang:1.26", Image: "golang:1.26"}},
				Images: []*plan.Image{
					{Ref: "docker.io/library/alpine:3.20", Digest: "sha256:a1", Locked: true},
					{Ref: "docker.io/library/busybox:latest", Digest: "sha256:b1", Locked: true},
					{Ref: "docker.io/docker/dockerfile:1", Digest: "sha256:f1", Locked: true, Syntax: true},
					{Ref: "docker.io/library/golang:1.26", Digest: "sha256:c1", Locked: true},
					{Ref: "docker.io/library/debian:12"},
					{Ref: "docker.io/library/node@sha256:d1", Digest: "sha256:d1"},
				},
			}),
			opts: opts,
			attrs: map[string]string{
				"platform": "linux/amd64,linux/arm64", "filename": "Dockerfile",
				"context:tools":             "docker-image://docker.io/library/alpine:3.20@sha256:a1",
				"context:golang:1.26":       "docker-image://docker.io/library/golang:1.26@sha256:c1",
				"context:alpine:3.20":       "docker-image://docker.io/library/alpine:3.20@sha256:a1",
				"context:busybox":           "docker-image://docker.io/library/busybox:latest@sha256:b1",
				"build-arg:BUILDKIT_SYNTAX": "docker.io/docker/dockerfile:1@sha256:f1",
			},
			locals: map[string]string{"context": "/src", "dockerfile": "/src"},
		},
		{
			name: "a release: SOURCE_DATE_EPOCH, timestamps rewritten by every image exporter, attestations",
			step: step(&plan.Build{
				Target: "app", Platforms: runs[:1], Context: ".", Dockerfile: "Dockerfile", Push: true, Release: true,
				Tags:    []string{"127.0.0.1:5000/app:1"},
				Outputs: []*plan.Output{{Type: "oci", Dest: "/o/app.tar"}, {Type: "local", Dest: "/o/fs"}},
				Attest:  []map[string]string{{"type": "sbom"}, {"type": "provenance", "mode": "max"}},
			}),
			opts: solve.Options{SpecDir: "/src", Endpoint: "unix:///run/b.sock", InsecureRegistries: map[string]bool{"127.0.0.1:5000": true}, Release: &plan.Release{SourceDateEpoch: 1700000000}},
			attrs: map[string]string{
				"platform": "linux/amd64", "filename": "Dockerfile", "build-arg:SOURCE_DATE_EPOCH": "1700000000",
				"attest:sbom": "", "attest:provenance": "mode=max", "no-cache": "",
			},
			locals: map[string]string{"context": "/src", "dockerfile": "/src"},
			exports: []solve.Export{
				{Type: "image", Push: true, Attrs: map[string]string{"name": "127.0.0.1:5000/app", "push": "true", "push-by-digest": "true", "registry.insecure": "true", "rewrite-timestamp": "true"}},
				{Type: "oci", Dest: "/o/app.tar", Attrs: map[string]string{"name": "127.0.0.1:5000/app:1", "rewrite-timestamp": "true"}},
				{Type: "local", Dest: "/o/fs", Attrs: map[string]string{}},
			},
		},
		{
			name: "RUN options: shm size, ulimits, extra hosts, no-cache filter",
			step: step(&plan.Build{
				Target: "app", Platforms: runs[:1], Context: ".", Dockerfile: "Dockerfile",
				ShmSize: 134217728, Ulimits: []string{"nofile=1024:2048", "nproc=512:512"},
				ExtraHosts: map[string]string{"db.local": "10.0.0.5", "both.local": "10.0.0.6,[::1]"}, NoCacheFilter: []string{"build", "test"},
			}),
			opts: opts,
			attrs: map[string]string{
				"platform": "linux/amd64", "filename": "Dockerfile", "shm-size": "134217728",
				"ulimit": "nofile=1024:2048,nproc=512:512", "add-hosts": "both.local=10.0.0.6,both.local=::1,db.local=10.0.0.5", "no-cache": "build,test",
			},
			locals: map[string]string{"context": "/src", "dockerfile": "/src"},
		},
		{
			name: "an absolute dest stays where it is",
			step: step(&plan.Build{
				Target: "app", Platforms: runs[:1], Context: ".", Dockerfile: "Dockerfile",
				Outputs: []*plan.Output{{Type: "local", Dest: "/var/out"}},
			}),
			opts:    opts,
			attrs:   map[string]string{"platform": "linux/amd64", "filename": "Dockerfile"},
			locals:  map[string]string{"context": "/src", "dockerfile": "/src"},
			exports: []solve.Export{{Type: "local", Dest: "/var/out", Attrs: map[string]string{}}},
		},
		{
			name: "sensitive argument: real value sent, marked for redaction",
			step: step(&plan.Build{
				Target: "app", Platforms: runs[:1], Context: ".", Dockerfile: "Dockerfile",
				Args:                  map[string]string{"TOKEN": plan.Redacted},
				SensitiveFingerprints: map[string]string{"args.TOKEN": "sha256:x"},
				SensitiveValues:       map[string]string{"args.TOKEN": "s3cret"},
			}),
			opts:   opts,
			attrs:  map[string]string{"platform": "linux/amd64", "filename": "Dockerfile", "build-arg:TOKEN": "s3cret"},
			locals: map[string]string{"context": "/src", "dockerfile": "/src"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := solve.NewRequest(tt.step, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.FrontendAttrs, tt.attrs) {
				t.Errorf("attrs\n got %v\nwant %v", r.FrontendAttrs, tt.attrs)
			}
			if !reflect.DeepEqual(r.LocalDirs, tt.locals) {
				t.Errorf("locals\n got %v\nwant %v", r.LocalDirs, tt.locals)
			}
			if len(r.Exports) != len(tt.exports) || (len(tt.exports) > 0 && !reflect.DeepEqual(r.Exports, tt.exports)) {
				t.Errorf("exports\n got %+v\nwant %+v", r.Exports, tt.exports)
			}
			if r.Frontend != "dockerfile.v0" || r.Endpoint != tt.opts.Endpoint {
				t.Errorf("frontend %q endpoint %q", r.Frontend, r.Endpoint)
			}
		})
	}
}

func TestSensitiveIsMarked(t *testing.T) {
	r, err := solve.NewRequest(step(&plan.Build{
		Target: "a", Context: ".", Dockerfile: "Dockerfile", Args: map[string]string{"T": plan.Redacted},
		SensitiveFingerprints: map[string]string{"args.T": "sha256:x"}, SensitiveValues: map[string]string{"args.T": "v"},
	}), solve.Options{SpecDir: "/s"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sensitive["build-arg:T"] {
		t.Errorf("a sensitive argument is not marked for redaction: %v", r.Sensitive)
	}
}

func TestContextWithoutEdge(t *testing.T) {
	_, err := solve.NewRequest(step(&plan.Build{
		Target: "a", Context: ".", Dockerfile: "Dockerfile", Contexts: []*plan.NamedContext{{Name: "base", Target: "base"}},
	}), solve.Options{SpecDir: "/s"})
	if err == nil {
		t.Error("a target context without its data edge was accepted")
	}
}

func TestIsDockerfileStep(t *testing.T) {
	for name, want := range map[string]bool{
		"[linux/arm64 2/2] RUN uname -m > /arch":           true,
		"[stage-1 3/4] COPY --from=build /out /":           true,
		"[2/2] RUN true":                                   true,
		"[linux/amd64 1/2] FROM 127.0.0.1:5000/busybox":    false,
		"[internal] load build definition from Dockerfile": false,
		"[linux/arm64 internal] load metadata for x":       false,
		"exporting to image":                               false,
		"[auth] library/alpine:pull token":                 false,
	} {
		if got := solve.IsDockerfileStep(name); got != want {
			t.Errorf("IsDockerfileStep(%q) = %t", name, got)
		}
	}
}

func TestCheckSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SET": "v"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ok := []*solve.Request{{Step: "build.a", Secrets: []plan.Secret{{ID: "a", Env: "SET"}, {ID: "b", File: file}}}}
	if err := solve.CheckSecrets(ok, lookup); err != nil {
		t.Errorf("readable secrets: %v", err)
	}
	bad := []*solve.Request{{Step: "build.a", Secrets: []plan.Secret{{ID: "a", Env: "UNSET"}, {ID: "b", File: filepath.Join(dir, "missing")}, {ID: "c", File: dir}}}}
	err := solve.CheckSecrets(bad, lookup)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`secret "a" reads the environment variable UNSET`, `secret "b" reads`, `secret "c" reads`, "3 secret(s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q not in %v", want, err)
		}
	}
}

// TestReleaseSharedKey: a release's locals go to a copy BuildKit keeps for
// its inputs alone (a copy updated in place keeps old directory times);
// other builds use BuildKit's default.
func TestReleaseSharedKey(t *testing.T) {
	opts := solve.Options{SpecDir: "/s", Release: &plan.Release{SourceDateEpoch: 1700000000}}
	key := func(release bool, digest string) string {
		t.Helper()
		r, err := solve.NewRequest(step(&plan.Build{Target: "a", Context: ".", Dockerfile: "Dockerfile", Release: release, InputDigest: digest}), opts)
		if err != nil {
			t.Fatal(err)
		}
		return r.SharedKey
	}
	if k := key(false, "sha256:aa"); k != "" {
		t.Errorf("an ordinary build has the shared key %q", k)
	}
	a, b := key(true, "sha256:aa"), key(true, "sha256:bb")
	if a == "" || a == b || a != key(true, "sha256:aa") {
		t.Errorf("release shared keys: %q for aa, %q for bb; want one per input digest", a, b)
	}
}
