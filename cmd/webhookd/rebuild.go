package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/eventstore"
)

// rebuildCommand runs `webhookd projections rebuild`: it drops the read
// models and replays the whole log into them, printing progress. It runs
// no side effects: nothing is delivered during a rebuild. The server must
// be stopped (it holds the stores).
func rebuildCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return errors.New("usage: webhookd projections rebuild [serve flags such as --data-dir]")
	}
	cfg, err := config.FromEnvironment("webhookd projections rebuild", args[1:])
	if err != nil {
		return err
	}
	c, err := openCore(ctx, cfg, newLogger(cfg))
	if err != nil {
		return fmt.Errorf("%w (is a server running on this data directory? stop it first)", err)
	}
	defer c.Close()
	start := time.Now()
	last := time.Time{}
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
