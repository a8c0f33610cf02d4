package main

import (
	"context"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/ownership"
)

// newOwnership returns the lease manager that shares dispatch among the
// instances on a shared store, or nil when there is nothing to share:
// the embedded store belongs to one process, and an API-only instance
// dispatches nothing.
func (m *Main) newOwnership() *ownership.Manager {
	cfg, c := m.Config, m.Core
	if !cfg.Dispatch || cfg.EventStore == "embedded" {
		return nil
	}
	id := cfg.InstanceID
	if id == "" {
		id = ownership.NewInstanceID()
	}
	own := &ownership.Manager{
		Store: c.Store, Codec: c.Codec, Logger: m.Logger.With("instance", id), Instance: id,
		Partitions: cfg.Partitions, TTL: cfg.LeaseTTL, Now: time.Now,
		Healthy: func() error { return c.Runner.Ready(context.Background()) },
		OnGain:  func([]int) { c.Dispatcher.ExamineAll() },
	}
	own.RegisterMetrics(m.Metrics.Registry)
	c.Dispatcher.Owner = own
	m.HTTP.AddReadinessCheck("leases", own.Ready)
	return own
}

// retryPolicy is the default policy with the configured schedule.
func retryPolicy(cfg config.Config) domain.RetryPolicy {
	if len(cfg.RetrySchedule) == 0 {
		return domain.RetryPolicy{}
	}
	p := domain.DefaultRetryPolicy()
	p.Schedule = cfg.RetrySchedule
	return p
}

// runDispatch waits until the due index has caught up with the log (so
// nothing already attempted is attempted again), then dispatches until bg
// ends. With a lease manager, the leases are kept meanwhile and released
// only once the dispatcher has recorded its attempts in flight, so no
// other instance starts an attempt this one is still making.
func (m *Main) runDispatch(bg context.Context, own *ownership.Manager) error {
	c := m.Core
	for c.Runner.Ready(bg) != nil {
		select {
		case <-bg.Done():
			return nil
		case <-time.After(10 * time.Millisecond):
		}
	}
	if own == nil {
		return c.Dispatcher.Run(bg)
	}
	ownCtx, stopOwn := context.WithCancel(context.Background())
	ownDone := make(chan error, 1)
	go func() { ownDone <- own.Run(ownCtx) }()
	err := c.Dispatcher.Run(bg)
	stopOwn()
	<-ownDone
	return err
}
