// Package filemode holds the one rule for the permission bits a release
// build sends: those git records, whatever the umask of the checkout. The
// input digest (compiler/inputs) and the files sent to BuildKit
// (runtime/solve) must agree on it.
package filemode

import "io/fs"

// Git is m with the permission bits git gives an entry: 0755 for a
// directory or a file its owner may run, else 0644 (setuid, setgid and
// sticky cleared). Links, pipes and devices keep theirs.
func Git(m fs.FileMode) fs.FileMode {
	if m.Type()&^fs.ModeDir != 0 {
		return m
	}
	perm := fs.FileMode(0o644)
	if m.IsDir() || m&0o100 != 0 {
		perm = 0o755
	}
	return m&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | perm
}
