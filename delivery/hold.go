package delivery

// This file holds what keeps the dispatcher from sending again at once:
// per-delivery holds and the pause of dispatch while the store refuses writes.

import (
	"errors"
	"time"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
)

// hold keeps a delivery from being handed out by the due index again while
// its attempt runs, and afterwards until the read models have applied pos
// (the index then shows what the attempt left) and until has passed.
type hold struct {
	running bool
	pos     eventstore.Position
	until   time.Time
	// lane is the webhook whose lane the release wakes: an ordered line
	// waits on its head, and an attempt skipped as not yet due has no
	// other wake-up. Empty (held back after a crash) wakes every lane.
	lane string
	seq  uint64 // which setHold made it (holds.go)
}

// released reports whether the hold has ended at now, with the read
// models at applied.
func (h hold) released(applied eventstore.Position, now time.Time) bool {
	return !h.running && h.pos <= applied && !now.Before(h.until)
}

// notRecorded returns until when an attempt that could not be recorded
// holds its delivery and lane. When the store refused the append, it
// pauses all dispatch: the first refusal after a pause has ended doubles
// the pause, and refusals of attempts already under way extend nothing.
// d.mu is held.
func (d *Dispatcher) notRecorded(now time.Time, err error, paused *bool) time.Time {
	var refused *aggregate.AppendError
	if !errors.As(err, &refused) {
		return now.Add(d.StoreBackoff)
	}
	if now.Before(d.storePausedUntil) {
		return d.storePausedUntil
	}
	d.storeBackoff = min(max(d.storeBackoff*2, d.StoreBackoff), max(d.StoreBackoffMax, d.StoreBackoff))
	d.storePausedUntil = now.Add(d.storeBackoff)
	*paused = true
	return d.storePausedUntil
}

// storeStateChanged reports a pause or resumption of dispatch.
func (d *Dispatcher) storeStateChanged(paused, resumed bool, until time.Time, err error) {
	switch {
	case paused:
		d.Metrics.storePaused(true)
		d.Logger.Warn("dispatcher: the store refuses writes; dispatch paused", "until", until, "err", err)
	case resumed:
		d.Metrics.storePaused(false)
		d.Logger.Info("dispatcher: the store records attempts again; dispatch resumed")
	}
}

// StorePaused reports whether dispatch is paused because the store
// refused to record attempts, for readiness and tests.
func (d *Dispatcher) StorePaused() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.storeBackoff != 0
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
