// Package runtime will run a plan: probe and fix the host, solve builds on
// BuildKit and publish. It reads plans and never the spec; nothing before it
// in the pipeline imports it.
package runtime
