package esdb

import (
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/webhookd/webhookd/eventstore"
)

// Positions.
//
// EventStoreDB places an event in $all by a {Commit, Prepare} pair of byte
// offsets into its transaction log. Events written through the gRPC API are
// "commit-alike" prepares, whose commit and prepare offsets are both the
// record's own offset, so Commit alone orders and identifies them. (Only the
// legacy TCP API's explicit transactions gave several events one commit
// offset; webhookd never writes those.)
//
// The port's Position reserves 0 for "before the first event", while the
// first event in an EventStoreDB log can sit at offset 0. So an event at
// commit offset c becomes port Position c+1, and "after port position p"
// becomes "from offset p-1, excluding p-1 itself".

// toPosition maps an event's commit offset to a port Position. The client
// reports the largest uint64 when the server did not send a position (stream
// reads on servers that do not carry it); that maps to Start, meaning
// unknown, rather than wrapping round to it by accident.
func toPosition(commit uint64) eventstore.Position {
	if commit == math.MaxUint64 {
		return eventstore.Start
	}
	return eventstore.Position(commit + 1)
}

// fromPosition gives the server position to start reading or subscribing
// from for "after p". Forward reads of $all include the record at the start
// position while catch-up subscriptions start after it; rather than depend
// on either, callers read from the offset of p itself and drop every event
// whose port Position is not greater than p.
func fromPosition(after eventstore.Position) esdb.AllPosition {
	if after == eventstore.Start {
		return esdb.Start{}
	}
	off := uint64(after) - 1
	return esdb.Position{Commit: off, Prepare: off}
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
