package dockerfile

import (
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
