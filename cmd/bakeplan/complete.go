package main

import (
	"os"
	"sort"

	"github.com/bakeplan/bakeplan/spec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/spf13/cobra"
)

// completeTargets completes target and group names from the spec named by
// -f, parsed only (no evaluation): what a shell asks for as the user types.
func (g *globals) completeTargets(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	data, err := os.ReadFile(g.file)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, _ := spec.Parse(hclparse.NewParser(), g.file, data)
	if s == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []string
	for _, t := range s.Targets {
		names = append(names, t.Name+"\ttarget")
	}
	for _, gr := range s.Groups {
		names = append(names, gr.Name+"\tgroup")
	}
	sort.Strings(names)
	return names, cobra.ShellCompDirectiveNoFileComp
}

// fixedCompletion completes a flag from a fixed list of values.
func fixedCompletion(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}
