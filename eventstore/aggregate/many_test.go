package aggregate_test

import (
	"context"
	"testing"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
)

// plainStore hides the store's AppendBatch, as a store without batches.
type plainStore struct{ eventstore.Store }

// TestHandleMany: every command is decided on the state it brings and
// appended at its revision, in one batch or one by one; a lost race is
// decided again on the fresh state, and a refusal stays with its stream.
func TestHandleMany(t *testing.T) {
	for _, batched := range []bool{true, false} {
		name := "Batch"
		if !batched {
			name = "OneByOne"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			var store eventstore.Store = f.store
			if !batched {
				store = plainStore{f.store}
			}
			ctx := context.Background()
			f.given(t, "tally-a", 1)
			f.given(t, "tally-b", 5)
			a, ra, _ := aggregate.Load(ctx, f.store, f.codec, "tally-a", evolve)
			b, rb, _ := aggregate.Load(ctx, f.store, f.codec, "tally-b", evolve)
			f.given(t, "tally-b", 100) // another writer, after b was read: b's append loses its race
			cmds := []aggregate.Command[tally]{
				{Stream: "tally-a", State: a, Version: ra.Version, Position: ra.Position, Decide: add(2, 100)},
				{Stream: "tally-b", State: b, Version: rb.Version, Position: rb.Position, Decide: add(2, 100)},
				{Stream: "tally-new", Decide: add(7, 100)},
				{Stream: "tally-none", Decide: add(1, 0)},
			}
			out := aggregate.HandleMany(ctx, store, f.codec, evolve, cmds)
			if o := out[0]; o.Err != nil || o.State != (tally{2, 3}) || o.Result.Version != 2 || o.Result.Conflicts != 0 {
				t.Errorf("a: %+v", o)
			}
			// b is decided again on {2, 105}: the limit is reached, nothing appended.
			if o := out[1]; o.Err != nil || o.Result.Appended() || o.State != (tally{2, 105}) || o.Result.Conflicts != 1 {
				t.Errorf("b: %+v", o)
			}
			if o := out[2]; o.Err != nil || o.State != (tally{1, 7}) || o.Result.Version != 1 || o.Result.Append.Position == 0 {
				t.Errorf("new: %+v", o)
			}
			if o := out[3]; o.Err != nil || o.Result.Appended() {
				t.Errorf("none: %+v", o)
			}
			for stream, want := range map[string]tally{"tally-a": {2, 3}, "tally-b": {2, 105}, "tally-new": {1, 7}} {
				if s, _, _ := aggregate.Load(ctx, f.store, f.codec, stream, evolve); s != want {
					t.Errorf("%s holds %+v, want %+v", stream, s, want)
				}
			}
		})
	}
	t.Run("FromSnapshotLoad", func(t *testing.T) {
		f := newFixture(t)
		ctx := context.Background()
		f.given(t, "tally-s", 1, 2)
		s, r, _ := aggregate.Load(ctx, f.store, f.codec, "tally-s", evolve)
		f.given(t, "tally-s", 4)
		got, r2, err := aggregate.Load(ctx, f.store, f.codec, "tally-s", evolve, aggregate.FromSnapshot(s, r.Version, r.Position))
		if err != nil || got != (tally{3, 7}) || r2.Version != 3 {
			t.Errorf("%+v %+v %v", got, r2, err)
		}
	})
}
