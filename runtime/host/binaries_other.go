//go:build !amd64 && !arm64

package host

// testBinaries is empty on hosts bakeplan has no foreign test binaries for;
// probes there report that an emulator cannot be verified.
var testBinaries = map[string]string{}
