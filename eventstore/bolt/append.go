package bolt

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// appendReq is one Append call waiting for the writer.
type appendReq struct {
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	ids      []uuid.UUID
	size     int
	done     chan appendReply // buffered: the writer never blocks on it
}

type appendReply struct {
	res eventstore.AppendResult
	err error
}

// Append writes events to stream if it is at the expected revision. It
// returns once the events are durable (fsynced), sharing that fsync with
// every other append committed in the same group.
//
// Appends are idempotent, as in EventStoreDB: re-appending events that are
// already stored as the same sequence of the same stream returns the
// original result and writes nothing when
//   - expected is the revision used originally (Exact or NoStream): checked
//     against the stream itself, however long ago the events were written;
//   - expected is Any or StreamExists: checked against a window of the
//     Options.IDWindow most recent events (kept in memory, rebuilt from the
//     log's tail on Open).
//
// An ID found in the window that is not such a replay is refused with
// ErrInvalidEvent; beyond the window IDs are not checked for uniqueness.
// An empty event list is refused with ErrInvalidEvent.
//
// If ctx ends after the request was queued, Append returns ctx's error and
// the append may still commit, as with a timeout against a server; re-append
// with the same IDs to find out.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	req, err := newAppendReq(stream, expected, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	if err := s.enqueue(ctx, req); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, ctx.Err())
	}
}

// enqueue hands req to the writer unless the store is closing.
func (s *Store) enqueue(ctx context.Context, req *appendReq) error {
	s.gate.RLock()
	if s.closed {
		s.gate.RUnlock()
		return eventstore.ErrClosed
	}
	s.inflight.Add(1)
	s.gate.RUnlock()
	defer s.inflight.Done()
	select {
	case s.reqs <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newAppendReq validates an append before it reaches the writer, so a bad
// event never costs the group a commit.
func newAppendReq(stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (*appendReq, error) {
	if stream == "" {
		return nil, fmt.Errorf("append: empty stream name: %w", eventstore.ErrInvalidEvent)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("append %s: no events: %w", stream, eventstore.ErrInvalidEvent)
	}
	req := &appendReq{
		stream:   stream,
		expected: expected,
		events:   events,
		ids:      make([]uuid.UUID, len(events)),
		done:     make(chan appendReply, 1),
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i := range events {
		e := &events[i]
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
		req.ids[i] = id
		if n := len(e.Data) + len(e.Metadata); n > eventstore.MaxEventSize {
			return nil, fmt.Errorf("append %s: event %d (%s) is %d bytes, limit %d: %w",
				stream, i, e.Type, n, eventstore.MaxEventSize, eventstore.ErrEventTooLarge)
		}
		req.size += recordSize(stream, e) + 8 // the record and its position key
	}
	return req, nil
}

// errDuplicateID marks a request refused because an event ID is stored
// elsewhere; it wraps ErrInvalidEvent for callers.
var errDuplicateID = errors.New("event id already stored")

var _ eventstore.BatchAppender = (*Store)(nil)

// AppendBatch queues every append of the batch for the writer at once and
// waits for them all, so the writer commits them in as few group commits
// as its batch bounds allow. Each one is checked, committed and answered
// as its own Append would be: an append refused for its own reasons, or
// caught in a commit that failed, fails alone, and the results say
// exactly which appends are durable.
func (s *Store) AppendBatch(ctx context.Context, appends []eventstore.StreamAppend) []eventstore.BatchResult {
	out := make([]eventstore.BatchResult, len(appends))
	reqs := make([]*appendReq, len(appends))
	for i, a := range appends {
		if reqs[i], out[i].Err = newAppendReq(a.Stream, a.Expected, a.Events); out[i].Err != nil {
			reqs[i] = nil
		}
	}
	s.enqueueAll(ctx, reqs, out)
	for i, req := range reqs {
		if req == nil {
			continue
		}
		select {
		case r := <-req.done:
			out[i] = eventstore.BatchResult{Result: r.res, Err: r.err}
		case <-ctx.Done():
			out[i].Err = fmt.Errorf("append %s: %w", req.stream, ctx.Err())
		}
	}
	return out
}

// enqueueAll hands reqs to the writer in order; one it could not hand
// over gets its error in out and is set to nil.
func (s *Store) enqueueAll(ctx context.Context, reqs []*appendReq, out []eventstore.BatchResult) {
	fail := func(from int, err error) {
		for j := from; j < len(reqs); j++ {
			if reqs[j] != nil {
				out[j].Err, reqs[j] = fmt.Errorf("append %s: %w", reqs[j].stream, err), nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		fail(0, err)
		return
	}
	s.gate.RLock()
	if s.closed {
		s.gate.RUnlock()
		fail(0, eventstore.ErrClosed)
		return
	}
	s.inflight.Add(1)
	s.gate.RUnlock()
	defer s.inflight.Done()
	for i, req := range reqs {
		if req == nil {
			continue
		}
		select {
		case s.reqs <- req:
		case <-ctx.Done():
			fail(i, ctx.Err())
			return
		}
	}
}
