package uptodate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/bakeplan/bakeplan/internal/atomicfile"
	"github.com/bakeplan/bakeplan/plan"
)

// The detailed record of a pushed build (its files, args and images) says
// why the next plan builds again, but published on the image it would tell
// anyone who can pull it the names of the context's files, a brute-forcible
// digest of each, and args BuildKit ignored. So the image carries a brief
// record (the input digest) and the detail stays on the machine that built
// it, under its input digest, unless apply is asked to publish it.

// recordsDir is where detailed records are kept: the user's cache.
func recordsDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "bakeplan", "records"), nil
}

func recordFile(dir, inputDigest string) string {
	return filepath.Join(dir, strings.TrimPrefix(inputDigest, "sha256:")+".json")
}

// SaveRecords keeps the detailed record of each pushed build in built.
// A record that cannot be written only means a later plan on this machine
// cannot say what changed.
func SaveRecords(p *plan.Plan, built []string, files Files) error {
	dir, err := recordsDir()
	if err != nil {
		return err
	}
	for _, id := range built {
		st := p.Step(id)
		if st == nil || st.Build == nil || !st.Build.Push || st.Build.InputDigest == "" {
			continue
		}
		data, err := json.Marshal(RecordOf(p, st, files))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(recordFile(dir, st.Build.InputDigest), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// savedRecord is the detailed record kept for inputDigest on this machine.
func savedRecord(inputDigest string) (Record, bool) {
	dir, err := recordsDir()
	if err != nil || !strings.HasPrefix(inputDigest, "sha256:") || strings.ContainsAny(inputDigest, `/\`) {
		return Record{}, false
	}
	data, err := os.ReadFile(recordFile(dir, inputDigest))
	if err != nil {
		return Record{}, false
	}
	var r Record
	if json.Unmarshal(data, &r) != nil || r.Version != recordVersion || r.InputDigest != inputDigest {
		return Record{}, false
	}
	return r, true
}
