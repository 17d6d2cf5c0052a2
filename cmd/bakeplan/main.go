// Command bakeplan compiles a bakeplan.hcl build spec into a checked plan and
// shows it. It is a thin shell over the spec, compiler and plan packages.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/sirupsen/logrus"
)

func main() {
	delayFirstCollection()
	// containerd's content store logs through logrus's global logger; its
	// warnings (no fsverity on this filesystem) are noise for a CLI user.
	logrus.SetLevel(logrus.ErrorLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Environ())
	stop()
	os.Exit(code)
}

// delayFirstCollection lets the heap reach 16 MB before the first garbage
// collection, then hands pacing back to Go's default. A fresh process
// collects at 4, 5, 6 and 8 MB while it reads the spec, and almost all of
// that heap is the syntax tree, which stays live: those collections cost a
// tenth of planning a large spec and free next to nothing. (At 12 MB, a
// spec read back from the syntax cache still met its first collection
// with 10 MB of its 12 live.) Go's own compiler starts its heap the same
// way. GOGC or GOMEMLIMIT in the environment take precedence.
func delayFirstCollection() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	def := debug.SetGCPercent(400) // Go's 4 MB minimum heap x 400%
	runtime.SetFinalizer(&firstCollection{}, func(*firstCollection) { debug.SetGCPercent(def) })
}

// firstCollection is unreachable from the start; the first collection runs
// its finalizer.
type firstCollection struct{ _ [16]byte }
