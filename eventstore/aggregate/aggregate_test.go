package aggregate_test

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/internal/faultstore"
)

// added is the test aggregate's only event: a number added to a tally.
type added struct {
	N int `json:"n"`
}

func (added) EventType() string { return "test.added.v1" }

// tally is the test aggregate's state.
type tally struct {
	Count, Sum int
}

func evolve(s tally, e eventstore.Event) tally {
	if a, ok := e.(added); ok {
		s.Count++
		s.Sum += a.N
	}
	return s
}

// add decides to add n unless the tally already reached limit.
func add(n, limit int) func(tally) ([]eventstore.Event, error) {
	return func(s tally) ([]eventstore.Event, error) {
		if s.Sum >= limit {
			return nil, nil
		}
		return []eventstore.Event{added{N: n}}, nil
	}
}

type fixture struct {
	store *faultstore.Store
	codec *eventstore.Codec
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	codec := eventstore.NewCodec()
	codec.Register(added{})
	return fixture{store: faultstore.Wrap(s), codec: codec}
}

func (f fixture) given(t *testing.T, stream string, ns ...int) {
	t.Helper()
	for _, n := range ns {
		if _, err := aggregate.Append(context.Background(), f.store, f.codec, stream, eventstore.Any, added{N: n}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f fixture) handle(decide func(tally) ([]eventstore.Event, error), opts ...aggregate.Option) (tally, aggregate.Result, error) {
	return aggregate.Handle(context.Background(), f.store, f.codec, "tally-1", evolve, decide, opts...)
}

func TestHandle(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		s, res, err := f.handle(add(3, 100))
		if err != nil || s != (tally{1, 3}) || !res.Appended() || res.Version != 1 || res.Position == 0 || res.Conflicts != 0 {
			t.Fatalf("state %+v, result %+v, err %v", s, res, err)
		}
		s, res, err = f.handle(add(4, 100))
		if err != nil || s != (tally{2, 7}) || res.Version != 2 {
			t.Fatalf("state %+v, result %+v, err %v", s, res, err)
		}
	})
	t.Run("NothingDecided", func(t *testing.T) {
		f := newFixture(t)
		f.given(t, "tally-1", 5)
		s, res, err := f.handle(add(1, 5))
		if err != nil || s != (tally{1, 5}) || res.Appended() || res.Version != 1 || res.Position == 0 {
			t.Fatalf("state %+v, result %+v, err %v", s, res, err)
		}
	})
	t.Run("ReadsInPages", func(t *testing.T) {
		f := newFixture(t)
		f.given(t, "tally-1", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
		s, res, err := f.handle(add(1, 100), aggregate.PageSize(3))
		if err != nil || s != (tally{11, 11}) || res.Version != 11 {
			t.Fatalf("state %+v, result %+v, err %v", s, res, err)
		}
	})
	t.Run("DecideError", func(t *testing.T) {
		f := newFixture(t)
		refused := errors.New("refused")
		_, res, err := f.handle(func(tally) ([]eventstore.Event, error) { return nil, refused })
		if !errors.Is(err, refused) || res.Appended() {
			t.Fatalf("result %+v, err %v", res, err)
		}
	})
}

// racing returns a decide that lets another writer append before it
// answers, the first races times it is called, and counts its calls.
func racing(t *testing.T, f fixture, races int, calls *int, decide func(tally) ([]eventstore.Event, error)) func(tally) ([]eventstore.Event, error) {
	return func(s tally) ([]eventstore.Event, error) {
		*calls++
		if *calls <= races {
			f.given(t, "tally-1", 10)
		}
		return decide(s)
	}
}

func TestHandleConflicts(t *testing.T) {
	t.Run("DecidesAgainOnFreshState", func(t *testing.T) {
		f := newFixture(t)
		calls := 0
		s, res, err := f.handle(racing(t, f, 1, &calls, add(1, 100)))
		if err != nil || calls != 2 || res.Conflicts != 1 || s != (tally{2, 11}) || res.Version != 2 {
			t.Fatalf("calls %d, state %+v, result %+v, err %v", calls, s, res, err)
		}
	})
	t.Run("OtherWriterDidIt", func(t *testing.T) {
		// The other writer reached the limit: the fresh state shows the
		// work done, so nothing is appended and no error is reported.
		f := newFixture(t)
		calls := 0
		s, res, err := f.handle(racing(t, f, 1, &calls, add(1, 10)))
		if err != nil || calls != 2 || res.Appended() || res.Conflicts != 1 || s != (tally{1, 10}) {
			t.Fatalf("calls %d, state %+v, result %+v, err %v", calls, s, res, err)
		}
	})
	t.Run("ErrRetriesExhausted", func(t *testing.T) {
		f := newFixture(t)
		calls := 0
		_, res, err := f.handle(racing(t, f, 100, &calls, add(1, 1000)), aggregate.Retries(2))
		var conflict *aggregate.ConflictError
		if !errors.As(err, &conflict) || !eventstore.IsWrongExpectedVersion(err) || calls != 3 || res.Conflicts != 3 || res.Appended() {
			t.Fatalf("calls %d, result %+v, err %v", calls, res, err)
		}
	})
	t.Run("ExpectDoesNotRetry", func(t *testing.T) {
		f := newFixture(t)
		f.given(t, "tally-1", 1)
		calls := 0
		_, _, err := f.handle(racing(t, f, 1, &calls, add(1, 100)), aggregate.Expect(eventstore.Exact(0)))
		if !eventstore.IsWrongExpectedVersion(err) || calls != 1 {
			t.Fatalf("calls %d, err %v", calls, err)
		}
		s, res, err := f.handle(add(1, 100), aggregate.Expect(eventstore.Exact(1)))
		if err != nil || s != (tally{3, 12}) || res.Version != 3 {
			t.Fatalf("state %+v, result %+v, err %v", s, res, err)
		}
	})
}

func TestHandleStart(t *testing.T) {
	t.Run("FromSnapshotReadsTheTail", func(t *testing.T) {
		f := newFixture(t)
		f.given(t, "tally-1", 1, 2, 3)
		// The snapshot claims the first two events summed to 100: only the
		// third is read on top of it.
		s, res, err := f.handle(add(1, 1000), aggregate.FromSnapshot(tally{2, 100}, 2, 0))
		if err != nil || s != (tally{4, 104}) || res.Version != 4 {
			t.Fatalf("state %+v, result %+v, err %v", s, res, err)
		}
	})
	t.Run("AssumeNewStream", func(t *testing.T) {
		f := newFixture(t)
		f.store.FailReads(errors.New("no read expected"))
		s, res, err := f.handle(add(2, 100), aggregate.Assume(tally{}, 0, 0))
		f.store.Heal()
		if err != nil || s != (tally{1, 2}) || res.Version != 1 {
			t.Fatalf("state %+v, result %+v, err %v", s, res, err)
		}
	})
	t.Run("AssumeWrongReadsAfterConflict", func(t *testing.T) {
		f := newFixture(t)
		f.given(t, "tally-1", 5)
		calls := 0
		s, res, err := f.handle(racing(t, f, 0, &calls, add(2, 100)), aggregate.Assume(tally{}, 0, 0))
		if err != nil || calls != 2 || res.Conflicts != 1 || s != (tally{2, 7}) {
			t.Fatalf("calls %d, state %+v, result %+v, err %v", calls, s, res, err)
		}
	})
	t.Run("ErrSnapshotOfAnotherType", func(t *testing.T) {
		f := newFixture(t)
		if _, _, err := f.handle(add(1, 100), aggregate.FromSnapshot("not a tally", 0, 0)); err == nil {
			t.Fatal("a snapshot of another type was accepted")
		}
	})
}

func TestHandleStoreFaults(t *testing.T) {
	t.Run("ErrAppendRefused", func(t *testing.T) {
		f := newFixture(t)
		f.store.FailAppends(syscall.ENOSPC)
		_, res, err := f.handle(add(1, 100))
		var refused *aggregate.AppendError
		if !errors.As(err, &refused) || !errors.Is(err, syscall.ENOSPC) || res.Appended() || f.store.RefusedAppends() != 1 {
			t.Fatalf("result %+v, err %v", res, err)
		}
	})
	t.Run("ErrFence", func(t *testing.T) {
		f := newFixture(t)
		lost := errors.New("lease lost")
		_, res, err := f.handle(add(1, 100), aggregate.Fence(func(context.Context) error { return lost }))
		if !errors.Is(err, lost) || res.Appended() {
			t.Fatalf("result %+v, err %v", res, err)
		}
		if s, _, _ := f.handle(add(0, 0)); s != (tally{}) {
			t.Fatalf("a fenced command appended: %+v", s)
		}
	})
	t.Run("ErrRead", func(t *testing.T) {
		f := newFixture(t)
		f.store.FailReads(syscall.EIO)
		if _, _, err := f.handle(add(1, 100)); !errors.Is(err, syscall.EIO) {
			t.Fatalf("err %v", err)
		}
	})
}
