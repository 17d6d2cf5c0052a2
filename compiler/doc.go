// Package compiler turns a parsed spec into a checked plan: it resolves
// variables, evaluates locals, functions and targets, expands matrices and
// inheritance, assigns each platform to a builder node (native or emulated),
// checks everything that can be checked without a daemon, and builds the
// step graph.
//
// Every problem is an hcl.Diagnostic tied to the spec's source where there is
// one; all of them are reported together and no plan is returned when any is
// an error. The compiler reads files through an fs.FS and never touches the
// network or a daemon.
package compiler
