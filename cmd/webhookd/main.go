// Command webhookd is the webhook delivery service. `webhookd serve` runs
// it; the other subcommands are operator tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/webhookd/webhookd/internal/runtimegc"
)

const usage = `webhookd: self-hosted webhook delivery

Usage:
  webhookd serve [flags]                 run the service (webhookd serve --help lists the flags)
  webhookd keys create --account A --scope account|publisher|admin [--label L] [--expires-in 720h] [--init]
  webhookd keys list --account A
  webhookd keys revoke KEY_ID
  webhookd projections rebuild           replay the log into fresh read models (server stopped)
  webhookd version                       print the version and the VCS revision it was built from

Every subcommand takes --help. Flags may follow arguments, and every flag
of serve can also be set with its WEBHOOKD_* environment variable.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// usageError is a command line webhookd cannot make sense of; it exits 2,
// as flag parsing errors conventionally do, rather than 1 for a failure.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// exitCode reports err and maps it to the process's exit status: 0 for
// success and for --help, 2 for a usage mistake, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		if ue.error != nil {
			fmt.Fprintln(stderr, "webhookd:", ue.error)
		}
		return 2
	default:
		fmt.Fprintln(stderr, "webhookd:", err)
		return 1
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{errors.New("no command given")}
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], stdout)
	case "keys":
		return keysCommand(ctx, args[1:], stdout, stderr)
	case "projections":
		return rebuildCommand(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", args[0])}
	}
}

// serveCommand runs the service until ctx ends (SIGINT or SIGTERM).
func serveCommand(ctx context.Context, args []string, stdout io.Writer) error {
	runtimegc.Apply()
	m := NewMain()
	m.Stdout = stdout
	if err := m.ParseFlags(args); err != nil {
		return flagError(err)
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	select {
	case <-ctx.Done():
	case <-m.Fatal(): // Close reports the error; the exit is non-zero
	}
	return m.Close()
}

// flagError marks a flag parsing failure as a usage error; --help stays
// flag.ErrHelp, which exits 0.
func flagError(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err}
}
