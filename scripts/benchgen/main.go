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
	shape := flag.String("shape", "platforms", "platforms: targets x 4 platforms over a few Dockerfiles and a graph; plain: targets sharing one Dockerfile")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "benchgen: -dir is required")
		os.Exit(2)
	}
	write := benchspec.Write
	switch *shape {
	case "platforms":
	case "plain":
		write = benchspec.WritePlain
	default:
		fmt.Fprintln(os.Stderr, "benchgen: -shape is platforms or plain")
		os.Exit(2)
	}
	if err := write(*dir, *n); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}
