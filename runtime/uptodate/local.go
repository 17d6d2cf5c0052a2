package uptodate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/plan"
)

// Builds whose outputs are local (an OCI tarball, a directory) have no
// registry to hold their input record; a small state file does, outside
// the repository, in the user's cache directory: per build, the record it
// was made from and the digest of each output it wrote. Such a build is up
// to date only while every output still exists with that digest.

// localState is the state file of one spec.
type localState struct {
	Version int                    `json:"v"`
	Builds  map[string]*localBuild `json:"builds"` // by step id
}

type localBuild struct {
	Record  Record            `json:"record"`
	Outputs map[string]string `json:"outputs"` // "TYPE DEST" -> digest
}

// StateFile is where the outputs of the spec in specDir are recorded.
func StateFile(specDir string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(specDir))
	return filepath.Join(dir, "bakeplan", "outputs", hex.EncodeToString(sum[:8])+".json"), nil
}

func readState(file string) *localState {
	st := &localState{Version: 1, Builds: map[string]*localBuild{}}
	data, err := os.ReadFile(file)
	if err != nil {
		return st
	}
	var s localState
	if json.Unmarshal(data, &s) != nil || s.Version != 1 || s.Builds == nil {
		return st
	}
	return &s
}

// onlyLocal says whether every output of b is a file or directory here:
// there is no push, and nothing loaded into Docker, whose state bakeplan
// does not track.
func onlyLocal(b *plan.Build) bool {
	if b.Push || len(b.Outputs) == 0 {
		return false
	}
	for _, o := range b.Outputs {
		if o.Type != "oci" && o.Type != "local" {
			return false
		}
	}
	return true
}

// checkLocal decides the state of a build with local outputs.
func checkLocal(state *localState, specDir string, st *plan.Step, now Record) *plan.BuildStatus {
	prev := state.Builds[st.ID]
	if prev == nil {
		return &plan.BuildStatus{State: Build, Reasons: []string{"never built here (no record in the local state)"}}
	}
	var reasons []string
	if prev.Record.InputDigest != now.InputDigest {
		reasons = append(reasons, Reasons(prev.Record, now)...)
	}
	for _, o := range st.Build.Outputs {
		key := o.Type + " " + o.Dest
		d, err := outputDigest(specDir, o)
		switch {
		case err != nil:
			reasons = append(reasons, fmt.Sprintf("output %s missing", o.Dest))
		case prev.Outputs[key] != d:
			reasons = append(reasons, fmt.Sprintf("output %s changed since it was written", o.Dest))
		}
	}
	if len(reasons) > 0 {
		return &plan.BuildStatus{State: Build, Reasons: reasons}
	}
	return &plan.BuildStatus{State: UpToDate}
}

// SaveLocal records, after a run, the builds with local outputs that
// succeeded: their records and their outputs' digests.
func SaveLocal(p *plan.Plan, specDir string, built []string, files Files) error {
	file, err := StateFile(specDir)
	if err != nil {
		return err
	}
	state := readState(file)
	changed := false
	for _, id := range built {
		st := p.Step(id)
		if st == nil || st.Build == nil || !onlyLocal(st.Build) {
			continue
		}
		lb := &localBuild{Record: RecordOf(p, st, files), Outputs: map[string]string{}}
		for _, o := range st.Build.Outputs {
			d, err := outputDigest(specDir, o)
			if err != nil {
				return fmt.Errorf("%s: recording output %s: %w", id, o.Dest, err)
			}
			lb.Outputs[o.Type+" "+o.Dest] = d
		}
		state.Builds[id] = lb
		changed = true
	}
	if !changed {
		return nil
	}
	data, err := json.Marshal(state)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(file, data, 0o644)
}

// outputDigest is the digest of what an output wrote: the tarball's bytes,
// or the directory's paths, modes and contents.
func outputDigest(specDir string, o *plan.Output) (string, error) {
	dest := o.Dest
	if !filepath.IsAbs(dest) {
		dest = filepath.Join(specDir, filepath.FromSlash(dest))
	}
	if o.Type == "oci" {
		return fileDigest(dest)
	}
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	for _, p := range paths {
		fi, err := os.Lstat(p)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dest, p)
		fmt.Fprintf(h, "%s\x00%o\x00", rel, fi.Mode())
		switch {
		case fi.Mode().IsRegular():
			d, err := fileDigest(p)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s\x00", d)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			fmt.Fprintf(h, "%s\x00", target)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func fileDigest(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
