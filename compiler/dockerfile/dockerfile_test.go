package dockerfile

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"
)

const crossCompile = `# syntax=docker/dockerfile:1
ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS TARGETARCH
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app .

FROM scratch AS final
COPY --from=build /out/app /app

FROM debian:bookworm AS debug
RUN apt-get update
COPY --from=build /out/app /app
RUN --mount=from=tools,target=/t /t/check
`

func TestAnalyze(t *testing.T) {
	f, err := Parse("Dockerfile", []byte(crossCompile))
	if err != nil {
		t.Fatal(err)
	}
	amd64, arm64 := platforms.MustParse("linux/amd64"), platforms.MustParse("linux/arm64")
	tests := []struct {
		name     string
		b        Build
		stages   string // name@platform:runs
		images   string
		args     string
		contexts string
	}{
		{
			name:   "the final stage cross-compiles",
			b:      Build{Target: "final", Platform: arm64, BuildPlatform: amd64},
			stages: "build@linux/amd64:5 final@linux/arm64:",
			images: "golang:1.26@linux/amd64",
			args:   "GO_VERSION TARGETARCH TARGETOS",
		},
		{
			name:   "a build arg changes the image",
			b:      Build{Target: "final", Platform: arm64, BuildPlatform: amd64, Args: map[string]string{"GO_VERSION": "1.25"}},
			stages: "build@linux/amd64:5 final@linux/arm64:",
			images: "golang:1.25@linux/amd64",
			args:   "GO_VERSION TARGETARCH TARGETOS",
		},
		{
			name:   "without a named context, --mount=from pulls an image for the target platform",
			b:      Build{Target: "debug", Platform: arm64, BuildPlatform: amd64},
			stages: "build@linux/amd64:5 debug@linux/arm64:11,13",
			images: "debian:bookworm@linux/arm64 golang:1.26@linux/amd64 tools@linux/arm64",
			args:   "GO_VERSION TARGETARCH TARGETOS",
		},
		{
			name:     "the debug stage runs on the target platform, and reads a named context",
			b:        Build{Target: "debug", Platform: arm64, BuildPlatform: amd64, Contexts: map[string]bool{"tools": true}},
			stages:   "build@linux/amd64:5 debug@linux/arm64:11,13",
			images:   "debian:bookworm@linux/arm64 golang:1.26@linux/amd64",
			args:     "GO_VERSION TARGETARCH TARGETOS",
			contexts: "tools",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := f.Analyze(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			var stages []string
			for _, s := range r.Stages {
				var runs []string
				for _, l := range s.Runs {
					runs = append(runs, itoa(l))
				}
				stages = append(stages, s.Name+"@"+platforms.Format(s.Platform)+":"+strings.Join(runs, ","))
			}
			check := func(what, got, want string) {
				if got != want {
					t.Errorf("%s: %q, want %q", what, got, want)
				}
			}
			check("stages", strings.Join(stages, " "), tt.stages)
			var images []string
			for _, im := range r.Images {
				images = append(images, im.Ref+"@"+im.Platform)
			}
			check("images", strings.Join(images, " "), tt.images)
			check("args", strings.Join(sorted(r.Args), " "), tt.args)
			check("contexts", strings.Join(sorted(r.Contexts), " "), tt.contexts)
		})
	}
}

// TestSyntaxDirective: the frontend a "# syntax=" line names is read with
// its line, as BuildKit detects it.
func TestSyntaxDirective(t *testing.T) {
	f, err := Parse("Dockerfile", []byte(crossCompile))
	if err != nil {
		t.Fatal(err)
	}
	if f.Syntax != "docker/dockerfile:1" || f.SyntaxLine != 1 {
		t.Fatalf("syntax %q at line %d", f.Syntax, f.SyntaxLine)
	}
	g, err := Parse("Dockerfile", []byte("FROM scratch\n"))
	if err != nil || g.Syntax != "" {
		t.Fatalf("no directive: %q, %v", g.Syntax, err)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	amd64 := platforms.MustParse("linux/amd64")
	tests := []struct {
		name, src, target, want string
		line                    int
	}{
		{"unknown target", "FROM scratch AS a\n", "runtime", `there is no stage "runtime"`, 0},
		{"FROM that is no reference", "ARG B=Bad/Name\nFROM ${B}\n", "", "neither a stage", 2},
		{"empty FROM", "ARG B\nFROM ${B}\n", "", "empty after substitution", 2},
		{"COPY from nothing known", "FROM scratch\nCOPY --from=NOPE:x / /\n", "", "neither a stage", 2},
		{"bad platform", "FROM --platform=a/b/c/d scratch\n", "", "--platform", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("Dockerfile", []byte(tt.src))
			if err == nil {
				_, err = f.Analyze(Build{Target: tt.target, Platform: amd64, BuildPlatform: amd64})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			var e *Error
			if tt.line > 0 && (!errors.As(err, &e) || e.Line != tt.line) {
				t.Errorf("error %v at line %d, want %d", err, e.Line, tt.line)
			}
		})
	}
	if _, err := Parse("Dockerfile", []byte("RUN x\n")); err == nil {
		t.Errorf("a Dockerfile without FROM parsed")
	}
	if _, err := Parse("Dockerfile", []byte("FROM scratch\nBOGUS x\n")); err == nil || !strings.Contains(err.Error(), "Dockerfile:2") {
		t.Errorf("an unknown instruction: %v", err)
	}
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// FuzzAnalyze feeds arbitrary Dockerfiles through parsing, linting and
// analysis for a foreign platform: no input may panic or hang, and every
// problem comes back as an error.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{
		crossCompile,
		"FROM scratch\n",
		"ARG B=alpine\nFROM ${B} AS a\nFROM a\nCOPY --from=a / /\nRUN --mount=from=a,target=/x true\n",
		"# check=skip=all\nFROM --platform=$TARGETPLATFORM busybox\nRUN <<EOF\necho hi\nEOF\n",
		"FROM a AS a\n",
		"FROM busybox\nRUN --mount=target=.,rw true\n",
	} {
		f.Add(s, "")
	}
	f.Add(crossCompile, "debug")
	amd64, arm64 := platforms.MustParse("linux/amd64"), platforms.MustParse("linux/arm64")
	f.Fuzz(func(t *testing.T, src, target string) {
		watchdog := time.AfterFunc(10*time.Second, func() { panic("analysing took more than 10s:\n" + src) })
		defer watchdog.Stop()
		file, err := Parse("Dockerfile", []byte(src))
		if err != nil {
			return
		}
		_, _ = Lint(context.Background(), "Dockerfile", []byte(src))
		_, _ = file.Analyze(Build{Target: target, Platform: arm64, BuildPlatform: amd64, Args: map[string]string{"B": "x"}, Contexts: map[string]bool{"ctx": true}})
	})
}

// TestLintReadWriteMount: the converter asks the solver's capabilities for
// a read-write bind mount; linting one must work without a solver.
func TestLintReadWriteMount(t *testing.T) {
	findings, err := Lint(context.Background(), "Dockerfile", []byte("FROM busybox\nRUN --mount=target=.,rw true\nrun true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 1 || findings[0].Rule != "ConsistentInstructionCasing" {
		t.Errorf("findings: %+v", findings)
	}
}
