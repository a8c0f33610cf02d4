// Package eventstore is the port between webhookd's event-sourced core and
// the durable log that backs it. Every state change in webhookd is an event
// appended here; read models are projections built by subscribing to it.
//
// The port is deliberately small so that each backend (the embedded bbolt
// log and the EventStoreDB adapter) stays thin and can pass one shared
// conformance suite (package eventstoretest).
package eventstore

import (
	"context"
	"strings"
	"time"
)

// MaxEventSize is the largest encoded event (data plus metadata) a backend
// accepts. Larger events are refused with ErrEventTooLarge before anything is
// written, so an oversized payload never poisons a batch.
const MaxEventSize = 4 << 20

// Position is an event's place in the global log. Positions grow strictly
// with commit order. The zero value, Start, lies before the first event, so
// "read after Start" reads everything. Backends whose native positions are
// not dense (EventStoreDB uses byte offsets) map them onto this type; callers
// must only rely on ordering, never on positions being contiguous.
type Position uint64

// Start is the position before the first event in the log.
const Start Position = 0

// EventData is an event as proposed for appending.
type EventData struct {
	// ID identifies the event. Appending the same IDs again at the same
	// expected revision is idempotent. It must be a UUID, because
	// EventStoreDB requires one.
	ID string
	// Type is the stable, dotted, versioned event name, such as
	// "webhook.created.v1".
	Type string
	// Data is the JSON payload.
	Data []byte
	// Metadata is optional JSON metadata (causation, correlation, actor).
	Metadata []byte
}

// RecordedEvent is an event as it sits in the log.
type RecordedEvent struct {
	ID       string
	Type     string
	Stream   string
	Revision uint64 // 0-based index within Stream
	Position Position
	Data     []byte
	Metadata []byte
	Time     time.Time // when the backend committed it, UTC
}

// AppendResult tells where an append landed.
type AppendResult struct {
	// NextRevision is the stream's revision after the append: the revision
	// of the last event written (or already present, for an idempotent
	// re-append).
	NextRevision uint64
	// Position is the global position of the last event of the append.
	Position Position
}

// Filter selects events for a subscription. An empty filter matches all
// events. A non-empty TypePrefixes matches events whose type starts with any
// of the prefixes.
type Filter struct {
	TypePrefixes []string
}

// Match reports whether the event type passes the filter.
func (f Filter) Match(eventType string) bool {
	if len(f.TypePrefixes) == 0 {
		return true
	}
	for _, p := range f.TypePrefixes {
		if strings.HasPrefix(eventType, p) {
			return true
		}
	}
	return false
}

// Store is the event store port.
type Store interface {
	// Append writes events to the end of stream atomically, provided the
	// stream is at the expected revision. It returns a
	// *WrongExpectedVersionError when it is not. Returning nil means the
	// events are durable.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)

	// ReadStream returns up to limit events of stream, in order, starting at
	// revision from (inclusive). A stream that was never written returns
	// ErrStreamNotFound.
	ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]RecordedEvent, error)

	// ReadAll returns up to limit events of the global log that come after
	// position after, in commit order.
	ReadAll(ctx context.Context, after Position, limit int) ([]RecordedEvent, error)

	// SubscribeAll streams every event after position after that matches
	// filter: first the history (catch-up), then new events as they are
	// committed (live), with no gap and no duplicate between the two. A
	// subscriber that reads slowly never blocks writers and never makes the
	// store buffer without bound.
	SubscribeAll(ctx context.Context, after Position, filter Filter) (Subscription, error)

	// SetMaxAge sets the retention of every stream in a category (the part
	// of a stream name before the first '-'). Events older than age may be
	// removed. Zero removes the limit.
	SetMaxAge(ctx context.Context, category string, age time.Duration) error

	// Close releases the store. Appends in flight either complete or fail.
	Close() error
}

// Subscription is a live cursor over the global log.
type Subscription interface {
	// Next blocks until the next matching event is available, the
	// subscription's context is cancelled, or it is closed. It returns the
	// context's error, or ErrSubscriptionClosed, once it ends. The event's
	// Data and Metadata may be shared with other subscribers (the bolt
	// store hands out its newest records from memory): read them, never
	// modify them.
	Next(ctx context.Context) (RecordedEvent, error)
	// Close ends the subscription and releases its resources.
	Close() error
}

// ConnectionState is implemented by subscriptions that retry a lost store
// connection inside Next rather than returning an error: Disconnected
// returns the last read failure while reads are failing, nil once one
// succeeds. Readiness asks it, since such a Next just blocks while the
// instance can see nothing new.
type ConnectionState interface {
	Disconnected() error
}

// Category returns the category of a stream: the part of its name before
// the first '-', as in EventStoreDB's $by_category projection.
func Category(stream string) string {
	if i := strings.IndexByte(stream, '-'); i >= 0 {
		return stream[:i]
	}
	return stream
}
