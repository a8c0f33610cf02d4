package projections

import (
	"context"
	"fmt"
	"time"
)

// Supervision says how Supervise restarts a runner whose batch failed (a
// full disk under the read model, a store that refuses reads).
type Supervision struct {
	// MinBackoff is the first wait before a restart; it doubles with each
	// failure in a row up to MaxBackoff. Zero means 100 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// FatalAfter is how long the runner may go on failing, without
	// committing anything, before Supervise gives up and returns the error,
	// so the process exits non-zero and its own supervisor restarts it.
	// Zero means DefaultFatalAfter.
	FatalAfter time.Duration
	// OnChange, when set, hears of every change of health: a failure (with
	// the restart count) and a recovery. Metrics hang on it.
	OnChange func(RunnerHealth)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultFatalAfter is how long a failing runner is restarted in-process
// before the process gives up: long enough to ride out an operator freeing
// disk space, short enough that a wedged instance is replaced.
const DefaultFatalAfter = 5 * time.Minute

// RunnerHealth is the runner's state as readiness, /healthz and metrics report it.
type RunnerHealth struct {
	// Up is false from a failed batch until the runner commits again.
	Up bool
	// Err is the last failure while the runner is down.
	Err error
	// Since is when the runner went down (zero while up).
	Since time.Time
	// Restarts counts restarts since the process began.
	Restarts int
}

// Health returns the runner's current health.
func (r *Runner) Health() RunnerHealth {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.healthLocked()
}

func (r *Runner) healthLocked() RunnerHealth {
	return RunnerHealth{Up: r.failErr == nil, Err: r.failErr, Since: r.failSince, Restarts: r.restarts}
}

// Supervise runs the runner until ctx ends, restarting it with back-off
// after a failure; nothing is lost, because a failed batch commits nothing
// and the restart reads again from the checkpoint. While it is down, Ready
// reports why. It returns an error only when the runner has failed for
// longer than s.FatalAfter without committing anything in between.
func (r *Runner) Supervise(ctx context.Context, s Supervision) error {
	s = s.withDefaults()
	r.mu.Lock()
	r.onUp = s.OnChange
	r.mu.Unlock()
	wait := s.MinBackoff
	for {
		err := r.Run(ctx)
		if ctx.Err() != nil || err == nil {
			return nil // stopped, or the store closed under it
		}
		h, wasUp := r.markDown(err, s.Now())
		if wasUp {
			wait = s.MinBackoff // a new failure, not the same one again
		}
		down := s.Now().Sub(h.Since)
		if r.Logger != nil {
			r.Logger.Error("projections failed; restarting", "name", r.Name, "err", err, "in", wait, "down_for", down.Round(time.Millisecond), "restarts", h.Restarts)
		}
		if s.OnChange != nil {
			s.OnChange(h)
		}
		if down >= s.FatalAfter {
			return fmt.Errorf("projections %s: failing for %s, giving up: %w", r.Name, down.Round(time.Second), err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(wait*2, s.MaxBackoff)
	}
}

func (s Supervision) withDefaults() Supervision {
	if s.MinBackoff <= 0 {
		s.MinBackoff = 100 * time.Millisecond
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = 30 * time.Second
	}
	if s.FatalAfter <= 0 {
		s.FatalAfter = DefaultFatalAfter
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}

// markDown records a failure and counts the restart that follows it. A
// runner already down keeps the time it went down; wasUp says it was not.
func (r *Runner) markDown(err error, now time.Time) (h RunnerHealth, wasUp bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	wasUp = r.failErr == nil
	if wasUp {
		r.failSince = now
	}
	r.failErr = err
	r.restarts++
	return r.healthLocked(), wasUp
}

// markUp records that the runner committed (or caught up) again, and tells
// the supervisor's listener once per recovery.
func (r *Runner) markUp() {
	r.mu.Lock()
	if r.failErr == nil {
		r.mu.Unlock()
		return
	}
	r.failErr, r.failSince = nil, time.Time{}
	r.changedLocked()
	h, onUp := r.healthLocked(), r.onUp
	r.mu.Unlock()
	if r.Logger != nil {
		r.Logger.Info("projections recovered", "name", r.Name, "restarts", h.Restarts)
	}
	if onUp != nil {
		onUp(h)
	}
}
