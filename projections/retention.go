package projections

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// pruneTxLimit bounds what one prune transaction removes, so pruning never
// holds the read model's write lock (and the live batches) for long.
const pruneTxLimit = 5000

// Retention is the --retention policy as the read models apply it: the
// same per-category ages the event store is given, and the clock they are
// measured by. The read models prune themselves by these settings rather
// than by observing the store's deletions, so every backend (bbolt sweep,
// PostgreSQL delete, EventStoreDB $maxAge, which deletes nothing visible)
// is served by one rule.
type Retention struct {
	// Ages maps a stream category to its max age; a missing or zero age
	// is no limit.
	Ages map[string]time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cutoff returns the instant before which anything that depends on
// events of the given categories is dropped: the youngest of their
// cutoffs, since an object folded from events of several categories
// cannot be rebuilt once any of them is gone. ok is false when none of the
// categories is limited.
func (r Retention) Cutoff(now time.Time, categories ...string) (cutoff time.Time, ok bool) {
	for _, c := range categories {
		age := r.Ages[c]
		if age <= 0 {
			continue
		}
		if t := now.Add(-age); !ok || t.After(cutoff) {
			cutoff, ok = t, true
		}
	}
	return cutoff, ok
}

func (r Retention) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Pruner is implemented by projections whose objects derive from streams
// that retention expires. Prune removes up to limit objects older than the
// policy allows at now and reports how many it removed; fewer than limit
// means it is done.
type Pruner interface {
	Prune(tx *bbolt.Tx, r Retention, now time.Time, limit int) (int, error)
}

// Prune drops from every Pruner what retention has expired, in
// transactions of at most pruneTxLimit removals, serialised with the live
// batches. It returns how many objects it removed.
func (r *Runner) Prune(ctx context.Context) (int, error) {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	return r.pruneLocked(ctx)
}

func (r *Runner) pruneLocked(ctx context.Context) (int, error) {
	if len(r.Retention.Ages) == 0 {
		return 0, nil
	}
	now, total := r.Retention.now(), 0
	for _, p := range r.Projections {
		pr, ok := p.(Pruner)
		if !ok {
			continue
		}
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			var n int
			err := r.DB.Update(func(tx *bbolt.Tx) (err error) {
				n, err = pr.Prune(tx, r.Retention, now, pruneTxLimit)
				return err
			})
			total += n
			if err != nil {
				return total, fmt.Errorf("projections %s: prune %s: %w", r.Name, p.Name(), err)
			}
			if n < pruneTxLimit {
				break
			}
		}
	}
	return total, nil
}

// RunPruner prunes every interval until ctx ends, logging what it removed
// and any failure (a failed prune is retried at the next tick; nothing is
// lost by pruning late).
func (r *Runner) RunPruner(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := r.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil && r.Logger != nil:
			r.Logger.Error("read-model retention prune failed", "name", r.Name, "err", err)
		case n > 0 && r.Logger != nil:
			r.Logger.Info("read-model retention prune", "name", r.Name, "removed", n)
		}
	}
}
