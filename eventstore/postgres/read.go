package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/webhookd/webhookd/eventstore"
)

// The global order is gap-free because a reader only reads below its
// horizon: the oldest transaction still running when its statement's
// snapshot was taken (pg_snapshot_xmin). Every transaction with a smaller
// xid has ended, so no event can ever appear below the horizon after it
// was read, however late its transaction commits. Positions start with the
// xid, so "below the horizon" is a range of the primary key. The cost: an
// event becomes readable only once every transaction older than its own
// has ended, including long ones that never touch the log.
//
// The query is prepared once per connection, and PostgreSQL soon plans it
// generically, without the parameters' values. So every condition on pos
// is one range of the primary key and "anything pending" is the log's
// max(pos), one probe at the end of the index: a generic plan of
// "EXISTS (pos >= horizon AND pos > $1)" scanned the whole table on every
// read, which made each subscription read cost O(log size) and put
// seconds between an append and its readers under load (TestPageQueryPlan).
// The naive test reader ($3) reads with the horizon at the end of time.
const pageQuery = `
WITH h AS MATERIALIZED (
	SELECT CASE WHEN $3 THEN 9223372036854775807
		ELSE pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20 END AS lim
)
SELECT h.lim,
	coalesce((SELECT max(pos) FROM webhookd_events), 0) >= greatest(h.lim, $1 + 1),
	e.pos, e.stream, e.revision, e.id, e.type, e.data, e.metadata, e.created
FROM h LEFT JOIN LATERAL (
	SELECT * FROM webhookd_events WHERE pos > $1 AND pos < h.lim ORDER BY pos LIMIT $2
) e ON true
ORDER BY e.pos`

// page is one read of the global log.
type page struct {
	events []eventstore.RecordedEvent
	// horizon is the first position that may still be written; everything
	// before it that the page did not return does not exist.
	horizon eventstore.Position
	// pending is true when events committed at or beyond the horizon.
	pending bool
}

// readPage reads up to limit events after position after, below the
// horizon (or, for the naive test reader, wherever they are).
func (s *Store) readPage(ctx context.Context, after eventstore.Position, limit int) (page, error) {
	rows, err := s.pool.Query(ctx, pageQuery, int64(after), limit, s.naive)
	if err != nil {
		return page{}, err
	}
	var p page
	var lim int64
	for rows.Next() {
		var pos, rev *int64
		var stream, typ *string
		var id pgtype.UUID
		var data, meta []byte
		var created pgtype.Timestamptz
		if err := rows.Scan(&lim, &p.pending, &pos, &stream, &rev, &id, &typ, &data, &meta, &created); err != nil {
			rows.Close()
			return page{}, fmt.Errorf("scan: %w", err)
		}
		if pos == nil {
			continue // no event: the row only carries the horizon
		}
		p.events = append(p.events, eventstore.RecordedEvent{
			ID: uuid.UUID(id.Bytes).String(), Type: *typ, Stream: *stream, Revision: uint64(*rev),
			Position: eventstore.Position(*pos), Data: data, Metadata: meta, Time: created.Time.UTC(),
		})
	}
	if err := rows.Err(); err != nil {
		return page{}, err
	}
	p.horizon = eventstore.Position(lim)
	return p, nil
}

// readAllWait bounds how long ReadAll waits for transactions in flight
// ahead of committed events before it answers with what is final.
const readAllWait = 5 * time.Second

// ReadAll returns up to limit events after position after, in the log's
// order. It returns only events whose place is final; when the only events
// left are committed behind a transaction still running, it waits (up to
// five seconds) for that transaction, so a reader sees its own appends.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	done, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, err)
	}
	defer done()
	if limit <= 0 {
		return nil, nil
	}
	deadline := time.Now().Add(readAllWait)
	delay := time.Millisecond
	for {
		var p page
		err := retry(ctx, func() (err error) {
			p, err = s.readPage(ctx, after, limit)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("read all after %d: %w", after, ctxErr(ctx, err))
		}
		if len(p.events) > 0 || !p.pending || time.Now().After(deadline) {
			return p.events, nil
		}
		select {
		case <-time.After(delay):
			delay = min(2*delay, 32*time.Millisecond)
		case <-ctx.Done():
			return nil, fmt.Errorf("read all after %d: %w", after, ctx.Err())
		case <-s.closing:
			return nil, fmt.Errorf("read all after %d: %w", after, eventstore.ErrClosed)
		}
	}
}

// ReadStream returns up to limit events of stream from revision from on.
// A stream's events are ordered by the stream lock, so they need no
// horizon: a reader always sees its own appends.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	done, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	defer done()
	rows, err := s.pool.Query(ctx, `SELECT pos, revision, id, type, data, metadata, created FROM webhookd_events
		WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`, stream, int64(min(from, 1<<62)), limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, ctxErr(ctx, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (eventstore.RecordedEvent, error) {
		var pos, rev int64
		var id pgtype.UUID
		var created time.Time
		e := eventstore.RecordedEvent{Stream: stream}
		err := r.Scan(&pos, &rev, &id, &e.Type, &e.Data, &e.Metadata, &created)
		e.ID, e.Revision, e.Position, e.Time = uuid.UUID(id.Bytes).String(), uint64(rev), eventstore.Position(pos), created.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, ctxErr(ctx, err))
	}
	if len(out) > 0 {
		return out, nil
	}
	var exists bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhookd_streams WHERE stream = $1)`, stream).Scan(&exists)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, ctxErr(ctx, err))
	}
	if !exists {
		return nil, fmt.Errorf("read %s: %w", stream, eventstore.ErrStreamNotFound)
	}
	return out, nil
}
