// Command benchgen writes the benchmark project: a bakeplan spec and the
// equivalent docker-bake.hcl over the same context directories.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/bakeplan/bakeplan/internal/benchspec"
)

func main() {
	dir := flag.String("dir", "", "directory to write into")
	n := flag.Int("n", 1000, "number of targets")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "benchgen: -dir is required")
		os.Exit(2)
	}
	if err := benchspec.Write(*dir, *n); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}
