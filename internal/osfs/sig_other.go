//go:build !unix

package osfs

import "io/fs"

// SigOf is false where signatures are not kept.
func SigOf(fs.FileInfo) (Sig, bool) { return Sig{}, false }
