package eventstoretest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

func testAppendAndReadStream(t *testing.T, s eventstore.Store) {
	stream, typ := newStream(), newTypePrefix()+"created.v1"
	evs := events(typ, 3)
	res := mustAppend(t, s, stream, eventstore.NoStream, evs...)
	if res.NextRevision != 2 {
		t.Fatalf("next revision = %d, want 2", res.NextRevision)
	}
	got := mustRead(t, s, stream)
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i, e := range got {
		sameEvent(t, e, evs[i], stream, uint64(i))
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("positions not increasing: %d then %d", got[i-1].Position, e.Position)
		}
		if e.Time.IsZero() || time.Since(e.Time) > time.Hour {
			t.Fatalf("event time %v is not the commit time", e.Time)
		}
	}
	if got[2].Position != res.Position {
		t.Fatalf("append reported position %d, last event is at %d", res.Position, got[2].Position)
	}
	more := event(typ, 3)
	res = mustAppend(t, s, stream, eventstore.Exact(2), more)
	if res.NextRevision != 3 || res.Position <= got[2].Position {
		t.Fatalf("second append = %+v, want revision 3 after position %d", res, got[2].Position)
	}
}

func testReadStreamFromAndLimit(t *testing.T, s eventstore.Store) {
	stream := newStream()
	evs := events(newTypePrefix()+"e.v1", 10)
	mustAppend(t, s, stream, eventstore.NoStream, evs...)
	got, err := s.ReadStream(testContext(t), stream, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}
	for i, e := range got {
		sameEvent(t, e, evs[4+i], stream, uint64(4+i))
	}
	if got, err := s.ReadStream(testContext(t), stream, 10, 5); err != nil || len(got) != 0 {
		t.Fatalf("read past the end = %d events, %v; want none", len(got), err)
	}
}

func testExpectedRevision(t *testing.T, s eventstore.Store) {
	ctx, typ := testContext(t), newTypePrefix()+"e.v1"
	t.Run("NoStream", func(t *testing.T) {
		stream := newStream()
		mustAppend(t, s, stream, eventstore.NoStream, event(typ, 0))
		_, err := s.Append(ctx, stream, eventstore.NoStream, event(typ, 1))
		wantWrongVersion(t, err, true, 0)
	})
	t.Run("StreamExists", func(t *testing.T) {
		stream := newStream()
		_, err := s.Append(ctx, stream, eventstore.StreamExists, event(typ, 0))
		wantWrongVersion(t, err, false, 0)
		mustAppend(t, s, stream, eventstore.Any, event(typ, 0))
		if res := mustAppend(t, s, stream, eventstore.StreamExists, event(typ, 1)); res.NextRevision != 1 {
			t.Fatalf("next revision = %d, want 1", res.NextRevision)
		}
	})
	t.Run("Exact", func(t *testing.T) {
		stream := newStream()
		_, err := s.Append(ctx, stream, eventstore.Exact(0), event(typ, 0))
		wantWrongVersion(t, err, false, 0)
		mustAppend(t, s, stream, eventstore.NoStream, event(typ, 0), event(typ, 1))
		_, err = s.Append(ctx, stream, eventstore.Exact(0), event(typ, 2))
		wantWrongVersion(t, err, true, 1)
		_, err = s.Append(ctx, stream, eventstore.Exact(5), event(typ, 2))
		wantWrongVersion(t, err, true, 1)
		if res := mustAppend(t, s, stream, eventstore.Exact(1), event(typ, 2)); res.NextRevision != 2 {
			t.Fatalf("next revision = %d, want 2", res.NextRevision)
		}
	})
	t.Run("Any", func(t *testing.T) {
		stream := newStream()
		mustAppend(t, s, stream, eventstore.Any, event(typ, 0))
		if res := mustAppend(t, s, stream, eventstore.Any, event(typ, 1)); res.NextRevision != 1 {
			t.Fatalf("next revision = %d, want 1", res.NextRevision)
		}
	})
	t.Run("FailedAppendWritesNothing", func(t *testing.T) {
		stream := newStream()
		mustAppend(t, s, stream, eventstore.NoStream, event(typ, 0))
		_, err := s.Append(ctx, stream, eventstore.Exact(7), event(typ, 1), event(typ, 2))
		wantWrongVersion(t, err, true, 0)
		if got := mustRead(t, s, stream); len(got) != 1 {
			t.Fatalf("stream has %d events after a refused append, want 1", len(got))
		}
	})
}

// testConcurrentWritersOneWins races two writers at the same expected
// revision, many times: each round exactly one must win, and the loser
// must learn the winner's revision.
func testConcurrentWritersOneWins(t *testing.T, s eventstore.Store) {
	ctx, typ := testContext(t), newTypePrefix()+"e.v1"
	for round := range 20 {
		stream := newStream()
		mustAppend(t, s, stream, eventstore.NoStream, event(typ, 0))
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for w := range 2 {
			wg.Go(func() {
				<-start
				_, errs[w] = s.Append(ctx, stream, eventstore.Exact(0), event(typ, w+1))
			})
		}
		close(start)
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: errors %v and %v, want exactly one winner", round, errs[0], errs[1])
		}
		loser := errs[0]
		if loser == nil {
			loser = errs[1]
		}
		wantWrongVersion(t, loser, true, 1)
		if got := mustRead(t, s, stream); len(got) != 2 {
			t.Fatalf("round %d: stream has %d events, want 2", round, len(got))
		}
	}
}

// testGlobalOrder appends to two streams in turn and checks the global log
// holds them in append order with growing positions.
func testGlobalOrder(t *testing.T, s eventstore.Store) {
	a, b, typ := newStream(), newStream(), newTypePrefix()+"e.v1"
	first := mustAppend(t, s, a, eventstore.NoStream, event(typ, 0))
	order := []string{a}
	for i := 1; i < 20; i++ {
		stream := a
		if i%3 != 0 {
			stream = b
		}
		mustAppend(t, s, stream, eventstore.Any, event(typ, i))
		order = append(order, stream)
	}
	got := readAllMine(t, s, first.Position-1, map[string]bool{a: true, b: true}, len(order))
	if len(got) != len(order) {
		t.Fatalf("global log has %d of our events, want %d", len(got), len(order))
	}
	revs := map[string]uint64{}
	for i, e := range got {
		if e.Stream != order[i] || string(e.Data) != string(event(typ, i).Data) {
			t.Fatalf("global event %d is %s %s, want %s {\"n\":%d}", i, e.Stream, e.Data, order[i], i)
		}
		if e.Revision != revs[e.Stream] {
			t.Fatalf("event %d of %s has revision %d, want %d", i, e.Stream, e.Revision, revs[e.Stream])
		}
		revs[e.Stream]++
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("positions not increasing: %d then %d", got[i-1].Position, e.Position)
		}
	}
}

func testIdempotent(t *testing.T, s eventstore.Store) {
	stream, typ := newStream(), newTypePrefix()+"e.v1"
	evs := events(typ, 3)
	orig := mustAppend(t, s, stream, eventstore.NoStream, evs...)
	for _, exp := range []eventstore.ExpectedRevision{eventstore.NoStream, eventstore.Any} {
		again := mustAppend(t, s, stream, exp, evs...)
		if again != orig {
			t.Fatalf("re-append at %s = %+v, want the original %+v", exp, again, orig)
		}
	}
	if got := mustRead(t, s, stream); len(got) != 3 {
		t.Fatalf("stream has %d events after re-appends, want 3", len(got))
	}
	// The stream must still be at revision 2: the re-appends wrote nothing.
	if more := mustAppend(t, s, stream, eventstore.Exact(2), event(typ, 3)); more.NextRevision != 3 {
		t.Fatalf("next append landed at revision %d, want 3", more.NextRevision)
	}
}

func testInvalidEvent(t *testing.T, s eventstore.Store) {
	ctx, stream := testContext(t), newStream()
	noType := event("", 0)
	badID := event(newTypePrefix()+"e.v1", 0)
	badID.ID = "not-a-uuid"
	for name, e := range map[string]eventstore.EventData{"NoType": noType, "BadID": badID} {
		if _, err := s.Append(ctx, stream, eventstore.Any, e); !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Fatalf("%s: err = %v, want ErrInvalidEvent", name, err)
		}
	}
	if _, err := s.ReadStream(ctx, stream, 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("stream exists after refused appends: %v", err)
	}
}

func testLargeEvent(t *testing.T, s eventstore.Store) {
	stream := newStream()
	e := event(newTypePrefix()+"big.v1", 0)
	e.Data = []byte(`{"blob":"` + strings.Repeat("x", 1<<20-12) + `"}`)
	mustAppend(t, s, stream, eventstore.NoStream, e)
	got := mustRead(t, s, stream)
	if len(got) != 1 {
		t.Fatalf("read %d events, want 1", len(got))
	}
	sameEvent(t, got[0], e, stream, 0)
}

func testEventTooLarge(t *testing.T, s eventstore.Store) {
	ctx, stream := testContext(t), newStream()
	e := event(newTypePrefix()+"big.v1", 0)
	e.Data = []byte(`{"blob":"` + strings.Repeat("x", eventstore.MaxEventSize) + `"}`)
	if _, err := s.Append(ctx, stream, eventstore.NoStream, event(e.Type, 1), e); !errors.Is(err, eventstore.ErrEventTooLarge) {
		t.Fatalf("err = %v, want ErrEventTooLarge", err)
	}
	if _, err := s.ReadStream(ctx, stream, 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("part of a refused append was written: %v", err)
	}
}

func testStreamNotFound(t *testing.T, s eventstore.Store) {
	_, err := s.ReadStream(testContext(t), newStream(), 0, 10)
	if !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("err = %v, want ErrStreamNotFound", err)
	}
}

func testCancelledContext(t *testing.T, s eventstore.Store) {
	ctx, cancel := context.WithCancel(testContext(t))
	cancel()
	stream, typ := newStream(), newTypePrefix()+"e.v1"
	if _, err := s.Append(ctx, stream, eventstore.Any, event(typ, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("append: err = %v, want context.Canceled", err)
	}
	if _, err := s.ReadStream(testContext(t), stream, 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("an append with a cancelled context wrote: %v", err)
	}
	mustAppend(t, s, stream, eventstore.Any, event(typ, 0))
	if _, err := s.ReadStream(ctx, stream, 0, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("read stream: err = %v, want context.Canceled", err)
	}
	if _, err := s.ReadAll(ctx, eventstore.Start, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("read all: err = %v, want context.Canceled", err)
	}
	sub, err := s.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{})
	if err == nil {
		defer sub.Close()
		_, err = sub.Next(testContext(t))
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("subscribe: err = %v, want context.Canceled", err)
	}
}

func testSetMaxAge(t *testing.T, s eventstore.Store) {
	// A category of its own, so the setting touches no other test's streams.
	ctx, stream := testContext(t), "ma"+suffix()+"-"+suffix()
	mustAppend(t, s, stream, eventstore.NoStream, events(newTypePrefix()+"e.v1", 2)...)
	if err := s.SetMaxAge(ctx, eventstore.Category(stream), time.Hour); err != nil {
		t.Fatalf("set max age: %v", err)
	}
	if got := mustRead(t, s, stream); len(got) != 2 {
		t.Fatalf("read %d events under a one-hour max age, want 2", len(got))
	}
	if err := s.SetMaxAge(ctx, eventstore.Category(stream), 0); err != nil {
		t.Fatalf("clear max age: %v", err)
	}
}
