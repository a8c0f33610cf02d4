// Command webhookd is the webhook delivery service. `webhookd serve` runs
// it; the other subcommands are operator tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/webhookd/webhookd/internal/tuning"
)

const usage = `webhookd: self-hosted webhook delivery

Usage:
  webhookd serve [flags]                 run the service (see --help for flags)
  webhookd keys create --account A --scope account|publisher|admin [--label L] [--expires-in 720h]
  webhookd keys list --account A
  webhookd keys revoke KEY_ID
  webhookd projections rebuild           replay the log into fresh read models (server stopped)
  webhookd version                       print the version

Every flag can also be set with its WEBHOOKD_* environment variable.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "webhookd:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		tuning.Apply()
		m := NewMain()
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
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
	case "keys":
		return keysCommand(ctx, args[1:], os.Stdout)
	case "projections":
		return rebuildCommand(ctx, args[1:], os.Stdout)
	case "version":
		fmt.Println(version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
