package lockfile

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

// TestRoundTrip: what Bytes writes, Parse reads back to the same pins, and
// writing that again gives the same bytes (the file is deterministic).
func TestRoundTrip(t *testing.T) {
	l := &Lock{Images: map[string]*Image{
		"docker.io/library/golang:1.26": {Ref: "docker.io/library/golang:1.26", Digest: d1, Platforms: map[string]string{"linux/arm64": d3, "linux/amd64": d2}},
		"docker.io/library/alpine:3.20": {Ref: "docker.io/library/alpine:3.20", Digest: d2},
	}}
	b := l.Bytes()
	got, diags := Parse(Name, b)
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, b)
	}
	if again := got.Bytes(); string(again) != string(b) {
		t.Fatalf("not deterministic:\n%s\n---\n%s", b, again)
	}
	g := got.Lookup("golang:1.26")
	if g == nil || g.Digest != d1 || g.Platforms["linux/arm64"] != d3 || len(g.Platforms) != 2 {
		t.Fatalf("golang pin: %+v", g)
	}
	if a := got.Lookup("alpine:3.20"); a == nil || len(a.Platforms) != 0 {
		t.Fatalf("alpine pin: %+v", a)
	}
	// Sorted: alpine before golang, platforms sorted, aligned.
	s := string(b)
	if strings.Index(s, "alpine") > strings.Index(s, "golang") || strings.Index(s, "linux/amd64") > strings.Index(s, "linux/arm64") {
		t.Fatalf("not sorted:\n%s", s)
	}
	if !strings.Contains(s, `"linux/amd64" = "`+d2+`"`) {
		t.Fatalf("platforms not one per line:\n%s", s)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		pinned   bool
	}{
		{"alpine", "docker.io/library/alpine:latest", false},
		{"golang:1.26", "docker.io/library/golang:1.26", false},
		{"127.0.0.1:5000/base:v1", "127.0.0.1:5000/base:v1", false},
		{"alpine@" + d1, "docker.io/library/alpine@" + d1, true},
	} {
		got, pinned, err := Normalize(tc.in)
		if err != nil || got != tc.want || pinned != tc.pinned {
			t.Errorf("Normalize(%q) = %q, %v, %v; want %q, %v", tc.in, got, pinned, err, tc.want, tc.pinned)
		}
	}
}

// TestParseErrors: each malformed pin is an error at its own line.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		line            int
	}{
		{"not normalized", "image \"golang:1.26\" {\n  digest = \"" + d1 + "\"\n}\n", `is written "docker.io/library/golang:1.26"`, 1},
		{"bad digest", "image \"docker.io/library/golang:1.26\" {\n  digest = \"sha256:12\"\n}\n", "sha256:… digest", 2},
		{"no digest", "image \"docker.io/library/golang:1.26\" {\n}\n", "has no digest", 1},
		{"bad platform", "image \"docker.io/library/golang:1.26\" {\n  digest = \"" + d1 + "\"\n  platforms = { \"linux/x86_64\" = \"" + d2 + "\" }\n}\n", "normal form", 3},
		{"unknown attribute", "image \"docker.io/library/golang:1.26\" {\n  digest = \"" + d1 + "\"\n  tag = \"x\"\n}\n", "not tag", 3},
		{"duplicate", "image \"docker.io/library/a:1\" {\n  digest = \"" + d1 + "\"\n}\nimage \"docker.io/library/a:1\" {\n  digest = \"" + d1 + "\"\n}\n", "pinned twice", 4},
		{"digest in reference", "image \"docker.io/library/a@" + d1 + "\" {\n  digest = \"" + d1 + "\"\n}\n", "pins itself", 1},
		{"other block", "provider \"x\" {}\n", "Unsupported block type", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, diags := Parse(Name, []byte(tc.src))
			if !diags.HasErrors() || l != nil {
				t.Fatalf("no error for\n%s", tc.src)
			}
			d := diags[0]
			if !strings.Contains(d.Summary+" "+d.Detail, tc.want) || d.Subject == nil || d.Subject.Start.Line != tc.line || d.Subject.Filename != Name {
				t.Fatalf("got %s at %v; want %q at line %d", d.Summary+": "+d.Detail, d.Subject, tc.want, tc.line)
			}
		})
	}
}

// FuzzParse: any bytes either fail to parse with diagnostics or give pins
// that write and read back to the same bytes; none panics or takes long.
func FuzzParse(f *testing.F) {
	f.Add([]byte("image \"docker.io/library/a:1\" {\n  digest = \"" + d1 + "\"\n  platforms = { \"linux/amd64\" = \"" + d2 + "\" }\n}\n"))
	f.Add([]byte("image \"a\" {}\n"))
	f.Add([]byte("image \"docker.io/library/a:1\" {\n  digest = \"" + d1 + "\"\n  platforms = {\"linux/arm64\" = 1}\n}\n"))
	f.Add([]byte(strings.Repeat("{", 1000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A parse that never returns cannot fail a test; crash instead so
		// the fuzzer keeps the input.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Parse took over 5s on %q", data)) })
		defer watchdog.Stop()
		l, diags := Parse(Name, data)
		if diags.HasErrors() {
			if l != nil {
				t.Fatal("a lock with errors")
			}
			return
		}
		b := l.Bytes()
		again, diags := Parse(Name, b)
		if diags.HasErrors() {
			t.Fatalf("the written lock does not parse: %s\n%s", diags, b)
		}
		if string(again.Bytes()) != string(b) {
			t.Fatalf("not stable:\n%s", b)
		}
	})
}
