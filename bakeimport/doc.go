// Package bakeimport translates docker buildx bake files (HCL or JSON) into
// a bakeplan spec: bare variable names become var.NAME, target and group
// names in strings become target.NAME and group.NAME traversals, bake's CSV
// strings become objects, bake's hyphenated attribute names their bakeplan
// spelling. It edits the bake source in place, so comments and layout stay
// where HCL allows; what has no bakeplan equivalent is commented out with a
// "# bakeplan:" note and reported as a warning at the bake line.
//
// The rules follow buildx v0.38.2 (bake/bake.go, bake/hclparser), the
// version the compatibility corpus is compared with.
package bakeimport
