package dockerfile

import (
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
)

// TestCustomFrontend: a Dockerfile frontend is read as a Dockerfile
// wherever it is served from; anything else is a custom frontend.
func TestCustomFrontend(t *testing.T) {
	for _, c := range []struct {
		syntax, arg, want string
	}{
		{syntax: "docker/dockerfile:1", want: ""},
		{syntax: "docker.io/docker/dockerfile-upstream:master", want: ""},
		{syntax: "registry.example.com/mirror/docker/dockerfile:1.7", want: ""},
		{syntax: "127.0.0.1:5000/dockerfile@sha256:" + sixtyFour, want: ""},
		{syntax: "docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v1", want: "docker-registry.wikimedia.org/repos/releng/blubber/buildkit:v1"},
		{arg: "example.com/frontends/yaml:2", want: "example.com/frontends/yaml:2"},
		{want: ""},
	} {
		data := "FROM scratch\n"
		if c.syntax != "" {
			data = "# syntax=" + c.syntax + "\n" + data
		}
		if got := CustomFrontend(c.arg, []byte(data)); got != c.want {
			t.Errorf("syntax %q arg %q: %q, want %q", c.syntax, c.arg, got, c.want)
		}
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestRemoteSources: ADD of a URL or a git repository is a remote input,
// pinned only by --checksum or a commit; a local path is none.
func TestRemoteSources(t *testing.T) {
	df := `FROM scratch
ARG REF=main
ADD https://example.com/a.tar.gz /a
ADD --checksum=sha256:` + sixtyFour + ` https://example.com/b.tar.gz /b
ADD https://github.com/moby/buildkit.git#${REF} /src
ADD https://github.com/moby/buildkit.git#0123456789abcdef0123456789abcdef01234567 /pinned
ADD git@github.com:moby/buildkit.git /ssh
ADD local.txt /local
COPY other.txt /other
`
	f, err := Parse("Dockerfile", []byte(df))
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Analyze(Build{Platform: platforms.MustParse("linux/amd64"), BuildPlatform: platforms.MustParse("linux/amd64")})
	if err != nil {
		t.Fatal(err)
	}
	want := []Remote{
		{Source: "https://example.com/a.tar.gz", Line: 3},
		{Source: "https://example.com/b.tar.gz", Line: 4, Pinned: true},
		{Source: "https://github.com/moby/buildkit.git#main", Line: 5},
		{Source: "https://github.com/moby/buildkit.git#0123456789abcdef0123456789abcdef01234567", Line: 6, Pinned: true},
		{Source: "git@github.com:moby/buildkit.git", Line: 7},
	}
	if len(res.Remote) != len(want) {
		t.Fatalf("remote = %+v, want %+v", res.Remote, want)
	}
	for i := range want {
		if res.Remote[i] != want[i] {
			t.Errorf("remote[%d] = %+v, want %+v", i, res.Remote[i], want[i])
		}
	}
}

// TestReads: the context paths a build reads are its COPY and ADD sources
// and RUN bind-mount sources, in the stages it runs, after ARG
// substitution; anything only the build could resolve, or the whole
// context, reads all of it.
func TestReads(t *testing.T) {
	amd64 := platforms.MustParse("linux/amd64")
	for _, c := range []struct {
		name, df string
		args     map[string]string
		target   string
		want     []string // nil: the whole context
		why      string
	}{
		{name: "sources", df: "FROM scratch\nCOPY src/ go.mod /app/\nADD vendor.tar /v\n", want: []string{"go.mod", "src", "vendor.tar"}},
		{name: "wildcards kept", df: "FROM scratch\nCOPY *.txt cmd/*/main.go /x/\n", want: []string{"*.txt", "cmd/*/main.go"}},
		{name: "nothing", df: "FROM scratch\nCOPY --from=busybox /bin/sh /sh\n", want: []string{}},
		{name: "a stage not built", df: "FROM scratch AS a\nCOPY a.txt /\nFROM scratch\nCOPY b.txt /\n", want: []string{"b.txt"}},
		{name: "a stage built for --from", df: "FROM scratch AS a\nCOPY a.txt /\nFROM scratch\nCOPY --from=a /a.txt /\nCOPY b.txt /\n", want: []string{"a.txt", "b.txt"}},
		{name: "the target stage", df: "FROM scratch AS a\nCOPY a.txt /\nFROM scratch\nCOPY b.txt /\n", target: "a", want: []string{"a.txt"}},
		{name: "an arg", df: "FROM scratch\nARG DIR=src\nCOPY ${DIR}/ /app/\n", args: map[string]string{"DIR": "lib"}, want: []string{"lib"}},
		{name: "an arg default", df: "FROM scratch\nARG DIR=src\nCOPY $DIR /app/\n", want: []string{"src"}},
		{name: "bind mount", df: "FROM busybox\nRUN --mount=type=bind,source=tools,target=/t /t/run\n", want: []string{"tools"}},
		{name: "cache and secret mounts read nothing", df: "FROM busybox\nRUN --mount=type=cache,target=/c --mount=type=secret,id=s true\n", want: []string{}},
		{name: "remote ADD reads nothing", df: "FROM scratch\nADD https://example.com/a /a\n", want: []string{}},
		{name: "COPY .", df: "FROM scratch\nCOPY . /app/\n", why: "Dockerfile:2: the COPY source . is the whole context"},
		{name: "COPY ./", df: "FROM scratch\nCOPY ./ /app/\n", why: "is the whole context"},
		{name: "bind mount of the whole context", df: "FROM busybox\nRUN --mount=type=bind,target=/src true\n", why: "Dockerfile:2: the RUN --mount=type=bind source (empty: the whole context) is the whole context"},
		{name: "an undeclared variable", df: "FROM scratch\nCOPY $SRC /app/\n", why: "Dockerfile:2: the COPY source $SRC names a path only the build knows"},
		{name: "an ENV", df: "FROM scratch\nARG SRC=a\nENV SRC=b\nCOPY $SRC /app/\n", why: "names a path only the build knows"},
		{name: "an ENV of the stage built on", df: "FROM scratch AS base\nENV SRC=b\nFROM base\nARG SRC=a\nCOPY $SRC /app/\n", why: "names a path only the build knows"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse("Dockerfile", []byte(c.df))
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.Analyze(Build{Target: c.target, Args: c.args, Platform: amd64, BuildPlatform: amd64})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == nil && (res.Reads != nil || !strings.Contains(res.ReadsAll, c.why)):
				t.Errorf("reads %q (%q), want the whole context because %q", res.Reads, res.ReadsAll, c.why)
			case c.want != nil && (res.ReadsAll != "" || !slices.Equal(res.Reads, c.want) || res.Reads == nil):
				t.Errorf("reads %#v (%q), want %#v", res.Reads, res.ReadsAll, c.want)
			}
		})
	}
	// Different values of an arg a source reads are different analyses.
	f, _ := Parse("Dockerfile", []byte("FROM scratch\nARG DIR=src\nCOPY ${DIR}/ /app/\n"))
	a, _ := f.Analyze(Build{Args: map[string]string{"DIR": "a"}, Platform: amd64, BuildPlatform: amd64})
	b, _ := f.Analyze(Build{Args: map[string]string{"DIR": "b"}, Platform: amd64, BuildPlatform: amd64})
	if a.Reads[0] != "a" || b.Reads[0] != "b" {
		t.Errorf("the analysis of DIR=a stood for DIR=b: %v %v", a.Reads, b.Reads)
	}
}
