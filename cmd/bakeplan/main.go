// Command bakeplan compiles a bakeplan.hcl build spec into a checked plan and
// shows it. It is a thin shell over the spec, compiler and plan packages.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
)

func main() {
	// containerd's content store logs through logrus's global logger; its
	// warnings (no fsverity on this filesystem) are noise for a CLI user.
	logrus.SetLevel(logrus.ErrorLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Environ())
	stop()
	os.Exit(code)
}
