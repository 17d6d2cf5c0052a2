package plan

import (
	"bytes"
	"testing"
)

// TestObservationsRoundTrip: what a probe writes into a working copy,
// read back as observations and merged into the compiled plan, gives the
// same plan byte for byte (input digests included), and the compiled plan
// is left exactly as it was.
func TestObservationsRoundTrip(t *testing.T) {
	compiled := &Plan{FormatVersion: FormatVersion, Steps: []*Step{
		{ID: "host.emulator.arm64", Action: ActionEnsure, Emulator: &Emulator{Arch: "arm64", Interpreter: "qemu-aarch64", Flags: "F"}},
		{ID: "build.app", Action: ActionBuild, Build: &Build{Target: "app", Platforms: []PlatformRun{{Platform: "linux/amd64", Native: true}},
			Images: []*Image{{Ref: "docker.io/library/alpine:3.20", Platforms: []string{"linux/amd64"}}, {Ref: "docker.io/library/golang:1.26", Digest: "sha256:aa", Locked: true}}}},
		{ID: "build.lib", Action: ActionBuild, Build: &Build{Target: "lib"}},
	}}
	compiled.DigestInputs()
	encode := func(p *Plan) []byte {
		enc, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		return enc.Bytes()
	}
	before := encode(compiled)

	work := compiled.With(nil)
	host := work.Step("host.emulator.arm64")
	host.Observed, host.Action = map[string]string{"registered": "yes", "flags": "F"}, ActionNoop
	app := work.Step("build.app").Build
	app.Images[0].Resolved = &Resolved{Digest: "sha256:bb", Platforms: map[string]string{"linux/amd64": "sha256:cc"}}
	app.Images[1].Registry = "sha256:dd"
	work.DigestInputs()
	app.Status = &BuildStatus{State: "build", Reasons: []string{"base moved"}}

	if !bytes.Equal(encode(compiled), before) {
		t.Fatal("probing a copy changed the compiled plan")
	}
	obs := ObservationsOf(work)
	if obs == nil || obs.Steps["build.lib"] != nil {
		t.Fatalf("observations: %+v", obs)
	}
	merged := compiled.With(obs)
	if got, want := encode(merged), encode(work); !bytes.Equal(got, want) {
		t.Errorf("merged:\n%s\nwant, as probed:\n%s", got, want)
	}
	if merged.Step("build.app").Build.InputDigest == compiled.Step("build.app").Build.InputDigest {
		t.Error("a resolved image did not change the input digest")
	}
	if !bytes.Equal(encode(compiled), before) {
		t.Error("merging changed the compiled plan")
	}
	if ObservationsOf(compiled) != nil {
		t.Error("a compiled plan has observations")
	}
}
