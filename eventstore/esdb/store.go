// Package esdb adapts EventStoreDB to the eventstore.Store port, for
// deployments that run several webhookd instances against one cluster.
//
// The adapter is deliberately thin: every method is one or two calls to
// github.com/EventStore/EventStore-Client-Go/v4/esdb plus the translation of
// positions, expected revisions and errors. The same client continues as
// kurrent-io/KurrentDB-Client-Go with the same API shape, so moving to
// KurrentDB should be an import rename, not a rewrite. Keep it that way:
// put behaviour in the domain, not here.
//
// Server requirements: EventStoreDB's default maximum append size is 1 MiB,
// below the port's MaxEventSize of 4 MiB. Run the server with
// EVENTSTORE_MAX_APPEND_SIZE (or --max-append-size) of at least 8 MiB so both
// backends accept the same events.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// Store is an eventstore.Store backed by an EventStoreDB (or KurrentDB)
// server or cluster.
type Store struct {
	client    *esdb.Client
	appendFn  appendFunc  // client.AppendToStream
	retry     retryPolicy // for appends whose outcome is unknown
	retention *retention
	closed    atomic.Bool

	mu   sync.Mutex
	subs map[*subscription]struct{} // live subscriptions, ended by Close
}

// Open connects to the server named by url, such as
// "esdb://127.0.0.1:2113?tls=false", and checks that it answers, so that a
// misconfigured URL fails at startup rather than on the first append.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := esdb.ParseConnectionString(url)
	if err != nil {
		return nil, fmt.Errorf("esdb: parse connection string: %w", err)
	}
	cfg.Logger = slogLogger
	client, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("esdb: new client: %w", err)
	}
	s := &Store{client: client, appendFn: client.AppendToStream, retry: defaultRetry, subs: make(map[*subscription]struct{})}
	s.retention = newRetention(client, time.Now)
	if err := s.ping(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("esdb: connect to %s: %w", cfg.Address, err)
	}
	return s, nil
}

// ping reads the last event of $all: the cheapest call that proves the
// server is reachable and accepts our credentials.
func (s *Store) ping(ctx context.Context) error {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return err
	}
	defer rs.Close()
	if _, err := recv(rs); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// slogLogger routes the client's own logging to slog. The client reports
// every dropped subscription (including the ones we close on purpose) at
// error level, so its errors are only warnings to us.
func slogLogger(level esdb.LogLevel, format string, args ...any) {
	l := slog.LevelDebug
	if level == esdb.LogError || level == esdb.LogWarn {
		l = slog.LevelWarn
	}
	slog.Log(context.Background(), l, "esdb client: "+fmt.Sprintf(format, args...))
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := s.usable(ctx); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	proposed, err := toEventData(events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append %s: %w", stream, err)
	}
	res, err := s.appendRetrying(ctx, stream, expected, proposed)
	if err != nil {
		return eventstore.AppendResult{}, s.appendError(ctx, stream, expected, err)
	}
	out := eventstore.AppendResult{NextRevision: res.NextExpectedVersion}
	if res.CommitPosition == 0 && res.PreparePosition == 0 {
		// The server sends no position for an idempotent re-append, so
		// look up where the original landed.
		out.Position, err = s.positionOf(ctx, stream, res.NextExpectedVersion)
	} else {
		out.Position = toPosition(esdb.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition})
	}
	if err != nil {
		return out, fmt.Errorf("append %s: %w", stream, ctxErr(ctx, err))
	}
	// An append whose last revision equals its length minus one created the
	// stream (or idempotently repeated the creating append), so this is
	// where a new stream gets its category's retention.
	if res.NextExpectedVersion+1 == uint64(len(events)) {
		if err := s.retention.applyToNewStream(ctx, stream); err != nil {
			return out, fmt.Errorf("append %s: %w", stream, ctxErr(ctx, err))
		}
	}
	return out, nil
}

// positionOf returns the port position of the event at rev in stream.
func (s *Store) positionOf(ctx context.Context, stream string, rev uint64) (eventstore.Position, error) {
	got, err := s.ReadStream(ctx, stream, rev, 1)
	if err != nil {
		return 0, err
	}
	if len(got) == 0 {
		return 0, fmt.Errorf("event %d of %s vanished", rev, stream)
	}
	return got[0].Position, nil
}

// ReadStream implements eventstore.Store. A limit of zero or less reads to
// the end of the stream.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{From: esdb.Revision(from)}, count(limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, mapReadError(ctx, err))
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := recv(rs)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, mapReadError(ctx, err))
		}
		out = append(out, toRecorded(ev.OriginalEvent()))
	}
}

// ReadAll implements eventstore.Store. System events (types starting with
// '$') are skipped, so a page may need several server reads to fill. A limit
// of zero or less reads to the end of the log.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("read $all: %w", err)
	}
	var out []eventstore.RecordedEvent
	for {
		want := count(limit - len(out))
		got, last, raw, err := s.readAllPage(ctx, after, want)
		if err != nil {
			return nil, fmt.Errorf("read $all after %d: %w", after, mapCommonError(ctx, err))
		}
		out = append(out, got...)
		// Fewer raw events than asked for means the end of the log; else the
		// page was thinned by system events and the next one continues it.
		if raw < want || (limit > 0 && len(out) == limit) {
			return out, nil
		}
		after = last
	}
}

// readAllPage reads up to n raw events after position after. It returns the
// user events among them, the position of the last raw event read and how
// many raw events there were, so the caller can page past system events.
func (s *Store) readAllPage(ctx context.Context, after eventstore.Position, n uint64) ([]eventstore.RecordedEvent, eventstore.Position, uint64, error) {
	from, err := s.startBefore(ctx, after)
	if err != nil {
		return nil, after, 0, err
	}
	// The start record itself comes back (forward reads include it) and is
	// dropped, so ask for one more.
	ask := n
	if after != eventstore.Start && ask < math.MaxUint64 {
		ask++
	}
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{From: from}, ask)
	if err != nil {
		return nil, after, 0, err
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	last, raw := after, uint64(0)
	for raw < n {
		ev, err := recv(rs)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, after, 0, err
		}
		rec := ev.OriginalEvent()
		pos := toPosition(rec.Position)
		if pos <= after {
			continue
		}
		last = pos
		raw++
		if keep(rec, after, eventstore.Filter{}) {
			out = append(out, toRecorded(rec))
		}
	}
	return out, last, raw, nil
}

// SetMaxAge implements eventstore.Store; see retention for how a per-stream
// setting is made to act per category.
func (s *Store) SetMaxAge(ctx context.Context, category string, age time.Duration) error {
	if err := s.usable(ctx); err != nil {
		return fmt.Errorf("set max age of %s: %w", category, err)
	}
	return s.retention.set(ctx, category, age)
}

// usable refuses calls on a closed store or with a finished context before
// anything is sent, so a cancelled append is known not to have been written.
func (s *Store) usable(ctx context.Context) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return ctx.Err()
}

// Close ends every open subscription and disconnects from the server.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.closeSubscriptions()
	return s.client.Close()
}

// closeSubscriptions ends every live subscription and refuses new ones.
func (s *Store) closeSubscriptions() {
	s.mu.Lock()
	subs := s.subs
	s.subs = nil
	s.mu.Unlock()
	for sub := range subs {
		sub.Close()
	}
}

// toEventData checks events against the port's rules before anything is
// sent, so both backends refuse the same events with the same errors.
func toEventData(events []eventstore.EventData) ([]esdb.EventData, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("no events: %w", eventstore.ErrInvalidEvent)
	}
	out := make([]esdb.EventData, len(events))
	for i, e := range events {
		id, err := uuid.Parse(e.ID)
		if err != nil {
			return nil, fmt.Errorf("event %d: id %q is not a UUID: %w", i, e.ID, eventstore.ErrInvalidEvent)
		}
		if e.Type == "" {
			return nil, fmt.Errorf("event %d: empty type: %w", i, eventstore.ErrInvalidEvent)
		}
		if size := len(e.Data) + len(e.Metadata); size > eventstore.MaxEventSize {
			return nil, fmt.Errorf("event %d: %d bytes: %w", i, size, eventstore.ErrEventTooLarge)
		}
		out[i] = esdb.EventData{EventID: id, EventType: e.Type, ContentType: esdb.ContentTypeJson, Data: e.Data, Metadata: e.Metadata}
	}
	return out, nil
}

// toRecorded converts a server event to the port's form.
func toRecorded(e *esdb.RecordedEvent) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{
		ID:       e.EventID.String(),
		Type:     e.EventType,
		Stream:   e.StreamID,
		Revision: e.EventNumber,
		Position: toPosition(e.Position),
		Data:     nilIfEmpty(e.Data),
		Metadata: nilIfEmpty(e.UserMetadata),
		Time:     e.CreatedDate.UTC(),
	}
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// count turns the port's int limit into the client's count, where "no
// limit" is the largest count.
func count(limit int) uint64 {
	if limit <= 0 {
		return math.MaxUint64
	}
	return uint64(limit)
}
