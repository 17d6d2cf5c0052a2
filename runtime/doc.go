// Package runtime holds what runs a plan, one job per package: endpoint
// dials builders, host probes and fixes the machine, solve turns a build
// step into a BuildKit solve, publish writes tags, and apply runs a whole
// plan. Runtime packages read plans and never the spec; nothing before them
// in the pipeline imports them.
package runtime
