// Package aggregate is webhookd's one command path: load a stream and fold
// it into a state, decide, and append the decision at the revision the
// state was read at. A lost race is decided again on fresh state, a
// bounded number of times. The application layer (webhooks, accounts,
// redeliveries) and the dispatcher (delivery attempts) both run their
// commands through Handle, so the loop and its rules are written once.
//
// The package knows only the store port and the codec; the domain's pure
// evolve and decide functions are passed in.
package aggregate

import (
	"context"
	"errors"
	"fmt"

	"github.com/webhookd/webhookd/eventstore"
)

// DefaultRetries is how often a decision is made again after losing a race
// when the caller sets no other bound. Losing this many times in a row
// means heavy contention on one aggregate.
const DefaultRetries = 5

// DefaultPageSize is how many events one read of a stream returns. A
// stream of any length is read in pages of this size.
const DefaultPageSize = 1000

// Result tells what Handle did.
type Result struct {
	// Events are the events this call appended; none when the decision
	// was to change nothing.
	Events []eventstore.Event
	// Append is where they landed; zero when nothing was appended.
	Append eventstore.AppendResult
	// Version is how many revisions the stream has as far as this call
	// knows (its last revision is Version-1); zero for no stream.
	Version uint64
	// Position is the global position of the stream's last event as far as
	// this call knows: the appended one, or the last one read. Zero when
	// the stream has no events.
	Position eventstore.Position
	// Conflicts is how many times the decision was made again because
	// another writer appended first.
	Conflicts int
}

// Appended reports whether this call appended anything.
func (r Result) Appended() bool { return len(r.Events) > 0 }

// ConflictError is returned when the append still lost its race after the
// allowed retries, or at once when the caller fixed the expected revision.
// It wraps the store's *eventstore.WrongExpectedVersionError, so
// eventstore.IsWrongExpectedVersion recognises it.
type ConflictError struct {
	Stream    string
	Conflicts int
	Err       error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("append %s: lost %d races: %v", e.Stream, e.Conflicts, e.Err)
}

func (e *ConflictError) Unwrap() error { return e.Err }

// AppendError is an append the store refused for a reason other than a
// lost race: a full disk, a lost connection, a closed store. Nothing was
// appended; the caller decides whether and when to try again.
type AppendError struct {
	Stream string
	Err    error
}

func (e *AppendError) Error() string { return fmt.Sprintf("append %s: %v", e.Stream, e.Err) }

func (e *AppendError) Unwrap() error { return e.Err }

// Option changes how Handle loads, appends or retries.
type Option func(*settings)

type settings struct {
	expected *eventstore.ExpectedRevision
	retries  int
	pageSize int
	fence    func(ctx context.Context) error
	start    any // the state to start from, of Handle's S
	version  uint64
	position eventstore.Position
	skipRead bool
}

// Expect appends at r instead of the revision the state was read at, and
// does not retry: a caller who names the revision its view was made at
// must see a lost race and reload, not have its command applied to a
// state it never saw. The decision still runs on the current state, so a
// decide function can refuse a stale view with its own message.
func Expect(r eventstore.ExpectedRevision) Option {
	return func(s *settings) { s.expected = &r }
}

// Retries bounds how often a lost race is decided again; 0 means never.
func Retries(n int) Option { return func(s *settings) { s.retries = max(n, 0) } }

// PageSize sets how many events one read returns.
func PageSize(n int) Option { return func(s *settings) { s.pageSize = max(n, 1) } }

// Fence runs check right before every append; an error from it aborts the
// command with nothing appended. It is where a caller proves it still may
// write, such as a partition owner checking its lease is current.
func Fence(check func(ctx context.Context) error) Option {
	return func(s *settings) { s.fence = check }
}

// FromSnapshot starts from a state the caller already holds, folded from
// the stream's first version revisions (whose last event is at position),
// and reads only what follows. A long stream then costs a read of its
// tail, not of its whole history.
func FromSnapshot[S any](state S, version uint64, position eventstore.Position) Option {
	return func(s *settings) {
		s.start, s.version, s.position, s.skipRead = state, version, position, false
	}
}

// Assume makes the first decision on state without reading the stream at
// all, as if it were current at version; a lost race reads what follows
// and decides again. A writer that knows a stream is new (version 0, the
// zero state) saves the read that would find nothing.
func Assume[S any](state S, version uint64, position eventstore.Position) Option {
	return func(s *settings) {
		s.start, s.version, s.position, s.skipRead = state, version, position, true
	}
}

// Handle loads stream (from a snapshot when given), folds it with evolve,
// lets decide choose the events to append, and appends them at the
// revision the state was read at. When another writer appended first it
// reads what that writer appended and decides again, up to the retry
// bound: whether the other writer already did the work is for decide to
// see in the fresh state, never assumed. It returns the state with the
// appended events folded in. An empty decision appends nothing.
//
// decide may be called more than once; a decide with a side effect (an
// HTTP request) must remember it and not repeat it.
func Handle[S any](ctx context.Context, store eventstore.Store, codec *eventstore.Codec, stream string,
	evolve func(S, eventstore.Event) S, decide func(S) ([]eventstore.Event, error), opts ...Option) (S, Result, error) {
	cfg := settings{retries: DefaultRetries, pageSize: DefaultPageSize}
	for _, o := range opts {
		o(&cfg)
	}
	var state S
	var res Result
	if cfg.start != nil {
		start, ok := cfg.start.(S)
		if !ok {
			return state, res, fmt.Errorf("handle %s: snapshot is a %T, not a %T", stream, cfg.start, state)
		}
		state, res.Version, res.Position = start, cfg.version, cfg.position
	}
	read := !cfg.skipRead
	for {
		var err error
		if read {
			if state, err = load(ctx, store, codec, stream, evolve, state, &res, cfg.pageSize); err != nil {
				return state, res, err
			}
		}
		read = true
		events, err := decide(state)
		if err != nil || len(events) == 0 {
			return state, res, err
		}
		appended, err := appendAt(ctx, store, codec, stream, cfg, res.Version, events)
		if err == nil {
			for _, e := range events {
				state = evolve(state, e)
			}
			res.Events, res.Append, res.Position = events, appended, appended.Position
			res.Version = appended.NextRevision + 1
			return state, res, nil
		}
		if !eventstore.IsWrongExpectedVersion(err) {
			return state, res, err
		}
		res.Conflicts++
		if cfg.expected != nil || res.Conflicts > cfg.retries {
			return state, res, &ConflictError{Stream: stream, Conflicts: res.Conflicts, Err: err}
		}
	}
}

// expectedAt is the condition for appending to a stream read up to version.
func expectedAt(version uint64) eventstore.ExpectedRevision {
	if version == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(version - 1)
}

func appendAt(ctx context.Context, store eventstore.Store, codec *eventstore.Codec, stream string, cfg settings, version uint64, events []eventstore.Event) (eventstore.AppendResult, error) {
	expected := expectedAt(version)
	if cfg.expected != nil {
		expected = *cfg.expected
	}
	if cfg.fence != nil {
		if err := cfg.fence(ctx); err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("append %s: fence: %w", stream, err)
		}
	}
	res, err := Append(ctx, store, codec, stream, expected, events...)
	if err != nil && !eventstore.IsWrongExpectedVersion(err) {
		var refused *AppendError
		if !errors.As(err, &refused) {
			err = &AppendError{Stream: stream, Err: err}
		}
	}
	return res, err
}

// Load reads and folds a whole stream, a page at a time, for a caller that
// needs its state but decides nothing. A stream never written folds to
// the zero state. FromSnapshot reads only what follows the snapshot;
// other options are ignored.
func Load[S any](ctx context.Context, store eventstore.Store, codec *eventstore.Codec, stream string, evolve func(S, eventstore.Event) S, opts ...Option) (S, Result, error) {
	var cfg settings
	for _, o := range opts {
		o(&cfg)
	}
	var state S
	var res Result
	if cfg.start != nil {
		start, ok := cfg.start.(S)
		if !ok {
			return state, res, fmt.Errorf("load %s: snapshot is a %T, not a %T", stream, cfg.start, state)
		}
		state, res.Version, res.Position = start, cfg.version, cfg.position
	}
	state, err := load(ctx, store, codec, stream, evolve, state, &res, DefaultPageSize)
	return state, res, err
}

// load folds the stream's events from res.Version on into state, a page
// at a time, and advances res to the last event read.
func load[S any](ctx context.Context, store eventstore.Store, codec *eventstore.Codec, stream string,
	evolve func(S, eventstore.Event) S, state S, res *Result, pageSize int) (S, error) {
	for {
		recs, err := store.ReadStream(ctx, stream, res.Version, pageSize)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return state, nil
		}
		if err != nil {
			return state, fmt.Errorf("read %s from %d: %w", stream, res.Version, err)
		}
		for _, r := range recs {
			ev, err := codec.Decode(r)
			if err != nil {
				return state, fmt.Errorf("read %s: %w", stream, err)
			}
			state = evolve(state, ev)
			res.Version, res.Position = r.Revision+1, r.Position
		}
		if len(recs) < pageSize {
			return state, nil
		}
	}
}

// Append encodes events and appends them to stream at expected. It is
// for writes that need no decision on a loaded state, such as a new
// message's first and only event.
func Append(ctx context.Context, store eventstore.Store, codec *eventstore.Codec, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	data, err := encodeAll(codec, stream, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return store.Append(ctx, stream, expected, data...)
}
