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
		// Leases only while the projections follow the log and the due
		// index may be dispatched from (projectionsReady).
		Healthy: func() error { return m.projectionsReady(context.Background()) },
		OnGain:  func([]int) { c.Dispatcher.ExamineAll() },
		Busy: func(p int) bool {
			return c.Dispatcher.InFlightWhere(func(id string) bool { return domain.PartitionOf(id, cfg.Partitions) == p })
		},
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

// dispatchOwned dispatches until ctx ends. With a lease manager, the
// leases are kept meanwhile and released only once the dispatcher has
// recorded its attempts in flight, so no other instance starts an attempt
// this one is still making.
func (m *Main) dispatchOwned(ctx context.Context, own *ownership.Manager) error {
	if own == nil {
		return m.Core.Dispatcher.Run(ctx)
	}
	ownCtx, stopOwn := context.WithCancel(context.Background())
	ownDone := make(chan error, 1)
	go func() { ownDone <- own.Run(ownCtx) }()
	err := m.Core.Dispatcher.Run(ctx)
	stopOwn()
	<-ownDone
	return err
}
