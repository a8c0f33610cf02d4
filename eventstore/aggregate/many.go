package aggregate

import (
	"context"
	"errors"
	"fmt"

	"github.com/webhookd/webhookd/eventstore"
)

// Command is one stream's part of HandleMany: the state the caller read
// it at (folded from its first Version revisions, the last at Position)
// and the decision to make on it.
type Command[S any] struct {
	Stream   string
	State    S
	Version  uint64
	Position eventstore.Position
	Decide   func(S) ([]eventstore.Event, error)
}

// Outcome is what HandleMany did with one Command, as Handle would have
// returned it.
type Outcome[S any] struct {
	State  S
	Result Result
	Err    error
}

// HandleMany is Handle for many streams decided at once, such as one
// request's outcome recorded on every delivery it carried. Each command
// is decided on the state it brings and appended at that state's
// revision; all the appends go to the store in one AppendBatch when it
// takes batches (one commit for all), else one after the other. A command
// whose append lost its race continues exactly as in Handle: the stream's
// tail is read, the decision made again on the fresh state, within the
// retry bound. Each command succeeds or fails on its own; the outcomes are
// in the order of cmds. opts apply to every command (Fence runs once
// before the batch).
func HandleMany[S any](ctx context.Context, store eventstore.Store, codec *eventstore.Codec,
	evolve func(S, eventstore.Event) S, cmds []Command[S], opts ...Option) []Outcome[S] {
	cfg := settings{retries: DefaultRetries, pageSize: DefaultPageSize}
	for _, o := range opts {
		o(&cfg)
	}
	out := make([]Outcome[S], len(cmds))
	decided := make([][]eventstore.Event, len(cmds))
	var appends []eventstore.StreamAppend
	var which []int
	for i, c := range cmds {
		out[i] = Outcome[S]{State: c.State, Result: Result{Version: c.Version, Position: c.Position}}
		events, err := c.Decide(c.State)
		if err != nil || len(events) == 0 {
			out[i].Err = err
			continue
		}
		data, err := encodeAll(codec, c.Stream, events)
		if err != nil {
			out[i].Err = err
			continue
		}
		decided[i] = events
		appends = append(appends, eventstore.StreamAppend{Stream: c.Stream, Expected: expectedAt(c.Version), Events: data})
		which = append(which, i)
	}
	if len(appends) == 0 {
		return out
	}
	if cfg.fence != nil {
		if err := cfg.fence(ctx); err != nil {
			for _, i := range which {
				out[i].Err = fmt.Errorf("append %s: fence: %w", cmds[i].Stream, err)
			}
			return out
		}
	}
	for k, r := range appendAll(ctx, store, appends) {
		i := which[k]
		c, o := cmds[i], &out[i]
		switch {
		case r.Err == nil:
			for _, e := range decided[i] {
				o.State = evolve(o.State, e)
			}
			o.Result.Events, o.Result.Append, o.Result.Position = decided[i], r.Result, r.Result.Position
			o.Result.Version = r.Result.NextRevision + 1
		case eventstore.IsWrongExpectedVersion(r.Err) && cfg.expected == nil && cfg.retries > 0:
			// Lost the race: read what the other writer appended and decide
			// again, as Handle does after its own first round.
			retry := append(append([]Option(nil), opts...), FromSnapshot(c.State, c.Version, c.Position), Retries(cfg.retries-1))
			o.State, o.Result, o.Err = Handle(ctx, store, codec, c.Stream, evolve, c.Decide, retry...)
			o.Result.Conflicts++
		case eventstore.IsWrongExpectedVersion(r.Err):
			o.Err = &ConflictError{Stream: c.Stream, Conflicts: 1, Err: r.Err}
		default:
			var refused *AppendError
			if o.Err = r.Err; !errors.As(r.Err, &refused) {
				o.Err = &AppendError{Stream: c.Stream, Err: r.Err}
			}
		}
	}
	return out
}

// appendAll appends every part, in one batch when the store takes them.
func appendAll(ctx context.Context, store eventstore.Store, appends []eventstore.StreamAppend) []eventstore.BatchResult {
	if b, ok := store.(eventstore.BatchAppender); ok {
		return b.AppendBatch(ctx, appends)
	}
	out := make([]eventstore.BatchResult, len(appends))
	for i, a := range appends {
		out[i].Result, out[i].Err = store.Append(ctx, a.Stream, a.Expected, a.Events...)
	}
	return out
}

func encodeAll(codec *eventstore.Codec, stream string, events []eventstore.Event) ([]eventstore.EventData, error) {
	data := make([]eventstore.EventData, 0, len(events))
	for _, e := range events {
		enc, err := codec.Encode(e)
		if err != nil {
			return nil, fmt.Errorf("encode %s for %s: %w", e.EventType(), stream, err)
		}
		data = append(data, enc)
	}
	return data, nil
}
