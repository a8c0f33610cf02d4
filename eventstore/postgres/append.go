package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// posShift is how many low bits of a position number the events within
// one append; the xid of the appending transaction fills the rest.
const posShift = 20

// maxAppendEvents is the most events one Append may carry.
const maxAppendEvents = 1<<posShift - 1

// appendAttempts bounds how often Append tries on a fresh connection after
// losing one. Retrying is safe even when the lost attempt committed: the
// IDs make the retry an idempotent replay.
const appendAttempts = 3

// Append writes events to stream if it is at the expected revision, in one
// transaction; it returns once PostgreSQL has flushed the commit.
//
// Appends are idempotent as in EventStoreDB: re-appending events the
// stream already holds as the same sequence returns the original result and
// writes nothing, with the original Exact or NoStream expectation or with
// Any or StreamExists, however old the events are (a unique index on event
// IDs answers it). An ID stored anywhere else is refused with
// ErrInvalidEvent.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	args, err := appendArgs(stream, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	done, err := s.enter()
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	defer done()
	backoff := newBackoff()
	for attempt := 1; ; attempt++ {
		res, err := s.appendOnce(ctx, stream, expected, args)
		if err == nil || !transient(err) || attempt == appendAttempts || !backoff.wait(ctx) {
			return res, err
		}
	}
}

func (s *Store) appendOnce(ctx context.Context, stream string, expected eventstore.ExpectedRevision, args []any) (eventstore.AppendResult, error) {
	var status int
	var last int64
	var pos *int64
	err := s.pool.QueryRow(ctx, `SELECT o_status, o_last, o_pos FROM webhookd_append($1, $2, $3, $4, $5, $6, $7)`, args...).
		Scan(&status, &last, &pos)
	switch {
	case err != nil && duplicateID(err):
		return eventstore.AppendResult{}, fmt.Errorf("append %s: an event id is already stored elsewhere: %w", stream, eventstore.ErrInvalidEvent)
	case err != nil:
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, s.closedErr(ctxErr(ctx, err)))
	case status == 2:
		return eventstore.AppendResult{}, &eventstore.WrongExpectedVersionError{
			Stream: stream, Expected: expected, ActualExists: last >= 0, Actual: uint64(max(last, 0))}
	}
	if status == 0 {
		s.committedLocally()
	}
	return eventstore.AppendResult{NextRevision: uint64(last), Position: eventstore.Position(*pos)}, nil
}

// appendArgs validates an append and builds the append function's
// arguments, so a bad event never reaches the server.
func appendArgs(stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) ([]any, error) {
	if stream == "" {
		return nil, fmt.Errorf("append: empty stream name: %w", eventstore.ErrInvalidEvent)
	}
	if len(events) == 0 || len(events) > maxAppendEvents {
		return nil, fmt.Errorf("append %s: %d events, want 1 to %d: %w", stream, len(events), maxAppendEvents, eventstore.ErrInvalidEvent)
	}
	ids := make([]uuid.UUID, len(events))
	types := make([]string, len(events))
	data := make([][]byte, len(events))
	meta := make([][]byte, len(events))
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		if e.Type == "" {
			return nil, fmt.Errorf("append %s: event %d has no type: %w", stream, i, eventstore.ErrInvalidEvent)
		}
		id, err := uuid.Parse(e.ID)
		if err != nil {
			return nil, fmt.Errorf("append %s: event %d id %q is not a UUID: %w", stream, i, e.ID, eventstore.ErrInvalidEvent)
		}
		if _, dup := seen[id]; dup {
			return nil, fmt.Errorf("append %s: event id %s appears twice: %w", stream, id, eventstore.ErrInvalidEvent)
		}
		seen[id] = struct{}{}
		if n := len(e.Data) + len(e.Metadata); n > eventstore.MaxEventSize {
			return nil, fmt.Errorf("append %s: event %d (%s) is %d bytes, limit %d: %w",
				stream, i, e.Type, n, eventstore.MaxEventSize, eventstore.ErrEventTooLarge)
		}
		ids[i], types[i], data[i], meta[i] = id, e.Type, nonNil(e.Data), nonNil(e.Metadata)
	}
	kind, rev := 0, int64(0)
	switch r, exact := expected.ExactRevision(); {
	case exact:
		kind, rev = 3, int64(min(r, math.MaxInt64>>1)) // beyond any real stream
	case expected.IsNoStream():
		kind = 1
	case expected.IsStreamExists():
		kind = 2
	}
	return []any{stream, kind, rev, ids, types, data, meta}, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
