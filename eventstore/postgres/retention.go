package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// sweepBatch bounds the events one retention statement looks at, so a
// large sweep is many short transactions.
const sweepBatch = 10_000

// SetMaxAge sets the retention of every stream in category (the part of a
// stream name before the first '-'); the sweep removes events older than
// age. Zero removes the limit. A stream keeps its head (and so its
// revision) when all its events are gone.
func (s *Store) SetMaxAge(ctx context.Context, category string, age time.Duration) error {
	if age < 0 {
		return fmt.Errorf("set max age of %s: negative age %s: %w", category, age, eventstore.ErrInvalidEvent)
	}
	done, err := s.enter()
	if err != nil {
		return fmt.Errorf("set max age of %s: %w", category, err)
	}
	defer done()
	if age == 0 {
		_, err = s.pool.Exec(ctx, `DELETE FROM webhookd_retention WHERE category = $1`, category)
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO webhookd_retention (category, max_age_ns) VALUES ($1, $2)
			ON CONFLICT (category) DO UPDATE SET max_age_ns = excluded.max_age_ns`, category, int64(age))
	}
	if err != nil {
		return fmt.Errorf("set max age of %s: %w", category, ctxErr(ctx, err))
	}
	return nil
}

// sweepQuery removes one batch of a category's expired events. It scans
// the log from where the category's last sweep stopped, below the horizon
// (so a transaction still running is never passed over), up to the first
// event younger than the cutoff, and records how far it got. It returns
// how many events it removed and whether the sweep is done.
const sweepQuery = `
WITH r AS (SELECT swept_pos FROM webhookd_retention WHERE category = $1),
h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20 AS lim),
batch AS MATERIALIZED (
	SELECT e.pos, e.created, e.stream FROM webhookd_events e, r, h
	WHERE e.pos > r.swept_pos AND e.pos < h.lim ORDER BY e.pos LIMIT $3),
stop AS (SELECT min(pos) AS p FROM batch WHERE created >= $2),
del AS (
	DELETE FROM webhookd_events e USING batch b, stop
	WHERE e.pos = b.pos AND split_part(b.stream, '-', 1) = $1 AND b.created < $2
		AND (stop.p IS NULL OR b.pos < stop.p)
	RETURNING 1),
upd AS (
	UPDATE webhookd_retention SET swept_pos = coalesce((SELECT p - 1 FROM stop), (SELECT max(pos) FROM batch), swept_pos)
	WHERE category = $1)
SELECT (SELECT count(*) FROM del), (SELECT p FROM stop) IS NOT NULL OR (SELECT count(*) FROM batch) < $3`

// Sweep removes every event older than its category's max age, measured
// by the store's clock, and returns how many it removed. The background
// sweep calls it; tests call it directly.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	done, err := s.enter()
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	defer done()
	rows, err := s.pool.Query(ctx, `SELECT category, max_age_ns FROM webhookd_retention`)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", ctxErr(ctx, err))
	}
	ages := map[string]time.Duration{}
	for rows.Next() {
		var category string
		var ns int64
		if err := rows.Scan(&category, &ns); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sweep: %w", err)
		}
		ages[category] = time.Duration(ns)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sweep: %w", ctxErr(ctx, err))
	}
	now, removed := s.now(), 0
	for category, age := range ages {
		cutoff := now.Add(-age)
		for finished := false; !finished; {
			var n int
			if err := s.pool.QueryRow(ctx, sweepQuery, category, cutoff, sweepBatch).Scan(&n, &finished); err != nil {
				return removed, fmt.Errorf("sweep %s: %w", category, ctxErr(ctx, err))
			}
			removed += n
		}
	}
	return removed, nil
}

// sweepLoop runs Sweep every interval until ctx ends.
func (s *Store) sweepLoop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("event store: retention sweep", "err", err)
		} else if n > 0 {
			s.log.Info("event store: retention removed events", "count", n)
		}
	}
}
