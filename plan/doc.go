// Package plan is the contract between the compiler and everything after it:
// a checked build plan as plain data, its versioned JSON form, its digest and
// the order its steps run in.
//
// A plan is deterministic: the same spec, inputs and variables give the same
// bytes, so plans can be hashed, stored next to a release and diffed. Secret
// values never enter it; sensitive ones are replaced by a fingerprint.
package plan
