package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/webhookd/webhookd/projections"
	"io"
	"os"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/eventstore"
)

// rebuildFlags are the serve settings a rebuild reads: where the log and
// the read models are, and how to log.
var rebuildFlags = []string{"data-dir", "eventstore", "log-level", "log-format", "event-types-file"}

// rebuildCommand runs `webhookd projections rebuild`: it drops the read
// models and replays the whole log into them, printing progress. It runs
// no side effects: nothing is delivered during a rebuild. The server must
// be stopped (it holds the stores).
func rebuildCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, rest, err := config.ParseArgs("webhookd projections rebuild", args, os.LookupEnv, rebuildFlags)
	if err != nil {
		return flagError(err)
	}
	if len(rest) != 1 || rest[0] != "rebuild" {
		fmt.Fprintln(stderr, "usage: webhookd projections rebuild [--data-dir DIR] [--eventstore URL] [--log-level L]")
		return usageError{errors.New("projections: the only subcommand is rebuild")}
	}
	c, err := openCore(ctx, cfg, newLogger(cfg))
	if err != nil {
		return fmt.Errorf("%w (is a server running on this data directory? stop it first)", err)
	}
	defer c.Close()
	start := time.Now()
	last := time.Time{}
	c.Runner.Retention = projections.Retention{Ages: cfg.Retention}
	err = c.Runner.Rebuild(ctx, func(p eventstore.Position, elapsed time.Duration) {
		if time.Since(last) < 500*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprintf(stdout, "\rrebuilding read models: position %d, %.0f events/s", p, float64(p)/elapsed.Seconds())
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\rrebuilt read models up to position %d in %s\n", c.Runner.Position(), time.Since(start).Round(time.Millisecond))
	return nil
}
