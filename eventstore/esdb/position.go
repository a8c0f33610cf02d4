package esdb

import (
	"context"
	"errors"
	"io"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/webhookd/webhookd/eventstore"
)

// Positions.
//
// EventStoreDB places an event in $all by a {Commit, Prepare} pair of byte
// offsets into its transaction log. Events written through the gRPC API are
// "commit-alike" prepares whose commit and prepare offsets are both the
// record's own offset, so one offset orders and identifies them. (Only the
// legacy TCP API's explicit transactions gave several events one commit
// offset; webhookd never writes those.) Stream reads may not carry the
// commit offset (the client then reports the largest uint64), but they do
// carry the prepare offset, which for these records is the same number.
//
// The port's Position must keep 0 for "before the first event", and callers
// say "from just before event p" as "after p-1". A read or subscription
// from a server position that is not a record boundary fails, so p-1 has to
// name a boundary too. Hence the encoding: the event at offset c is port
// Position 2c+2 (always even), and an odd Position 2c+1 means "just before
// the event at c". Positions stay ordered, which is all the port promises.

// toPosition maps an event's server position to the port's.
func toPosition(p esdb.Position) eventstore.Position {
	off := p.Commit
	if off == math.MaxUint64 {
		off = p.Prepare
	}
	if off >= math.MaxUint64/2 {
		return eventstore.Start // unknown
	}
	return eventstore.Position(2*off + 2)
}

// offsetOf returns the server offset a non-Start port position refers to:
// the event at it, or for an odd position the event just after it.
func offsetOf(after eventstore.Position) uint64 {
	return (uint64(after) - 1) / 2
}

// startBefore gives a server position to read or subscribe from so that the
// first event after port position after is not missed. Forward reads of
// $all include the record at their start while catch-up subscriptions begin
// after it; rather than depend on either, the start is at or before the
// last event the caller has seen, and callers drop every event whose port
// Position is not greater than after (see keep).
//
// For "after the event at c" that start is c itself. For "just before the
// event at c" it is the record before c, found by reading $all backwards
// (which excludes its start), or the beginning of the log if there is none.
func (s *Store) startBefore(ctx context.Context, after eventstore.Position) (esdb.AllPosition, error) {
	if after == eventstore.Start {
		return esdb.Start{}, nil
	}
	off := offsetOf(after)
	at := esdb.Position{Commit: off, Prepare: off}
	if after%2 == 0 {
		return at, nil
	}
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: at}, 1)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	ev, err := recv(rs)
	if errors.Is(err, io.EOF) {
		return esdb.Start{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ev.OriginalEvent().Position, nil
}

// keep reports whether an event read from $all is one the port's caller
// asked for: past after, not a system event, and matching filter.
func keep(rec *esdb.RecordedEvent, after eventstore.Position, filter eventstore.Filter) bool {
	return toPosition(rec.Position) > after && !isSystem(rec.EventType) && filter.Match(rec.EventType)
}

// isSystem reports whether an event type is EventStoreDB's own ($metadata,
// $>, $statsCollected...), which the port never exposes.
func isSystem(eventType string) bool {
	return len(eventType) > 0 && eventType[0] == '$'
}

// toExpectedRevision translates the port's append condition.
func toExpectedRevision(e eventstore.ExpectedRevision) esdb.ExpectedRevision {
	if r, ok := e.ExactRevision(); ok {
		return esdb.Revision(r)
	}
	switch {
	case e.IsNoStream():
		return esdb.NoStream{}
	case e.IsStreamExists():
		return esdb.StreamExists{}
	default:
		return esdb.Any{}
	}
}
