package main

import (
	"context"
	"time"

	"github.com/webhookd/webhookd/projections"
)

// maxHeldBack bounds how many deliveries a crash-recovery start holds back
// (a map entry each). A larger lag, such as a new instance on an existing
// EventStoreDB log, waits for the read models to catch up instead.
const maxHeldBack = 200_000

// pruneInterval is how often the read models drop what retention expired.
// Ages are days, so a few minutes late costs nothing.
const pruneInterval = 5 * time.Minute

// startBackground runs the projections under supervision, the dispatcher
// and the operational events reactor. It returns at once.
func (m *Main) startBackground() {
	c := m.Core
	m.fatal = make(chan error, 1)
	runCtx, stopRunner := context.WithCancel(context.Background())
	dispCtx, stopDispatcher := context.WithCancel(context.Background())
	m.stopRunner, m.stopDispatcher = stopRunner, stopDispatcher
	up := func(task string, isUp bool) {
		v := 0.0
		if isUp {
			v = 1
		}
		m.Metrics.TaskUp.WithLabelValues(task).Set(v)
	}
	up("projections", true)
	m.Metrics.TaskRestarts.WithLabelValues("projections")
	if len(c.Runner.Retention.Ages) > 0 {
		m.goBackground("retention", func() error {
			every := pruneInterval
			if m.pruneEvery > 0 {
				every = m.pruneEvery
			}
			c.Runner.RunPruner(runCtx, every)
			return nil
		})
	}
	m.goBackground("projections", func() error {
		err := c.Runner.Supervise(runCtx, projections.Supervision{
			FatalAfter: m.Config.FatalAfter,
			OnChange: func(h projections.RunnerHealth) {
				up("projections", h.Up)
				if !h.Up {
					m.Metrics.TaskRestarts.WithLabelValues("projections").Inc()
				}
			},
		})
		if err != nil {
			select {
			case m.fatal <- err:
			default:
			}
		}
		return err
	})
	if !m.Config.Dispatch {
		done := make(chan struct{})
		close(done)
		m.dispatcherDone = done // an API-only instance
		return
	}
	// Operational events are published where deliveries are made; on a
	// shared store every dispatching instance reacts, and each message's
	// ID lets only the first append through.
	m.goBackground("operational", func() error { return c.Reactor.Run(runCtx) })
	own := m.newOwnership()
	m.dispatcherDone = m.goBackground("dispatcher", func() error {
		if err := m.awaitDispatchable(dispCtx); err != nil {
			return nil // stopped before dispatching began
		}
		up("dispatcher", true)
		defer up("dispatcher", false)
		return m.dispatchOwned(dispCtx, own)
	})
}

// awaitDispatchable returns once the due index may be dispatched from.
// The index is consistent with the read models' checkpoint at every
// commit; what it lacks is the lag after it. So the lag is scanned (stream
// names only): deliveries with events in it are held back until the read
// models apply them, and only a webhook change in it (a new URL, secret or
// status) is waited for. Owed work starts at once, however large the lag.
func (m *Main) awaitDispatchable(ctx context.Context) error {
	c := m.Core
	start := time.Now()
	lag, err := c.Runner.ScanLag(ctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return err
	case err != nil || len(lag.Deliveries) > maxHeldBack:
		m.Logger.Info("dispatcher waits for the projections to catch up", "lag_events", lag.Events, "scan_err", err)
		return m.waitCaughtUp(ctx)
	}
	c.Dispatcher.HoldBack(lag.Deliveries)
	if err := c.Runner.WaitFor(ctx, lag.LastWebhookChange); err != nil {
		return err
	}
	m.dispatching.Store(true)
	if lag.Events > 0 {
		m.Logger.Info("dispatching while the projections catch up", "lag_events", lag.Events,
			"held_back", len(lag.Deliveries), "scan_took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func (m *Main) waitCaughtUp(ctx context.Context) error {
	if err := m.Core.Runner.WaitReady(ctx); err != nil {
		return ctx.Err()
	}
	m.dispatching.Store(true)
	return nil
}

// projectionsReady is the readiness check: not ready while the
// projections are down (the body names the failure); otherwise ready once
// the dispatcher works from a consistent due index, which after a crash
// comes before the read models have caught up.
func (m *Main) projectionsReady(ctx context.Context) error {
	r := m.Core.Runner
	if h := r.Health(); !h.Up {
		return r.Ready(ctx)
	}
	if m.dispatching.Load() {
		return nil
	}
	return r.Ready(ctx)
}

// stopBackground stops the dispatcher (its attempts in flight finish and
// are recorded), lets the projections apply everything committed, bounded
// by ctx, then stops them.
func (m *Main) stopBackground(ctx context.Context) error {
	if m.stopDispatcher == nil {
		return nil
	}
	m.stopDispatcher()
	<-m.dispatcherDone
	if m.Core.Runner.Health().Up {
		// Not an error when cut short: nothing is lost, the next start
		// applies the rest.
		if err := m.Core.Runner.Drain(ctx); err != nil {
			m.Logger.Warn("shutdown: projections stopped before applying everything committed", "err", err, "position", m.Core.Runner.Position())
		}
	}
	m.stopRunner()
	m.wg.Wait()
	m.Core.RateLimits.Wait()
	return nil
}
