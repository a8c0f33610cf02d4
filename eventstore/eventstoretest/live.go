package eventstoretest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/webhookd/webhookd/eventstore"
)

// testLiveReadersSeeEveryCommit is the test a reader that skips events
// fails. Many writers append (one to three events at a time) concurrently,
// so a backend running transactions in parallel commits them out of
// order, while two readers follow the log live: a subscription, and a
// poller calling ReadAll after the last position it saw. A reader that
// reads "position > last" passes over a transaction that commits after a
// later-numbered one. Each reader must see every acknowledged event
// exactly once, in the order the whole log reports once writing stopped.
func testLiveReadersSeeEveryCommit(t *testing.T, s eventstore.Store) {
	const writers, appends = 16, 120
	prefix := newTypePrefix()
	typ, sentinel := prefix+"e.v1", prefix+"sentinel.v1"
	marker := mustAppend(t, s, newStream(), eventstore.NoStream, event(prefix+"marker.v1", 0))
	sub := subscribe(t, s, marker.Position, prefix)
	ctx, cancel := context.WithCancel(testContext(t))
	var polled polledEvents
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		polled = pollUntil(ctx, s, marker.Position, prefix, sentinel)
	}()
	defer func() { cancel(); <-pollDone }() // the poller never outlives the test

	acked := appendConcurrently(t, s, writers, appends, typ)
	mustAppend(t, s, newStream(), eventstore.NoStream, event(sentinel, 0))

	var live []eventstore.RecordedEvent
	for e := next(t, sub); e.Type != sentinel; e = next(t, sub) {
		live = append(live, e)
	}
	final := readAllMine(t, s, marker.Position, acked.streams, acked.count)
	if len(final) != acked.count {
		t.Fatalf("the log holds %d of %d acknowledged events", len(final), acked.count)
	}
	for _, e := range final {
		if !acked.ids[e.ID] {
			t.Fatalf("the log holds %s %s@%d, never acknowledged", e.ID, e.Stream, e.Revision)
		}
	}
	sameSequence(t, "subscription", live, final)
	<-pollDone
	if polled.err != nil {
		t.Fatal(polled.err)
	}
	sameSequence(t, "ReadAll poller", polled.events, final)
}

// ackedEvents is what concurrent writers were told is durable.
type ackedEvents struct {
	ids     map[string]bool
	streams map[string]bool
	count   int
}

// appendConcurrently runs writers goroutines, each appending appends
// batches of one to three events to its own stream, and returns what was
// acknowledged.
func appendConcurrently(t *testing.T, s eventstore.Store, writers, appends int, typ string) ackedEvents {
	t.Helper()
	var mu sync.Mutex
	acked := ackedEvents{ids: map[string]bool{}, streams: map[string]bool{}}
	var wg sync.WaitGroup
	for w := range writers {
		stream := newStream()
		acked.streams[stream] = true
		wg.Go(func() {
			for i := range appends {
				batch := events(typ, 1+(w+i)%3)
				if _, err := s.Append(testContext(t), stream, eventstore.Any, batch...); err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				mu.Lock()
				for _, e := range batch {
					acked.ids[e.ID] = true
				}
				acked.count += len(batch)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return acked
}

// polledEvents is what the ReadAll poller saw, or why it stopped.
type polledEvents struct {
	events []eventstore.RecordedEvent
	err    error
}

// pollUntil calls ReadAll after the last position it saw, as a catch-up
// reader does, keeping events of the type prefix, until it reads stop.
func pollUntil(ctx context.Context, s eventstore.Store, after eventstore.Position, prefix, stop string) polledEvents {
	var p polledEvents
	for {
		page, err := s.ReadAll(ctx, after, 100)
		if err != nil {
			p.err = fmt.Errorf("poll read all after %d: %w", after, err)
			return p
		}
		if len(page) == 0 {
			runtime.Gosched() // a store that answers at once: let the writers run
		}
		for _, e := range page {
			if e.Position <= after {
				p.err = fmt.Errorf("poll read all after %d returned position %d", after, e.Position)
				return p
			}
			after = e.Position
			switch {
			case e.Type == stop:
				return p
			case strings.HasPrefix(e.Type, prefix):
				p.events = append(p.events, e)
			}
		}
	}
}

// sameSequence asserts a live reader saw exactly want, in want's order.
func sameSequence(t *testing.T, reader string, got, want []eventstore.RecordedEvent) {
	t.Helper()
	seen := make(map[string]bool, len(got))
	for _, e := range got {
		seen[e.ID] = true
	}
	missed := 0
	for _, e := range want {
		if !seen[e.ID] {
			missed++
		}
	}
	if missed > 0 || len(got) != len(want) {
		t.Fatalf("%s saw %d events, the log holds %d: it missed %d", reader, len(got), len(want), missed)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Position != want[i].Position {
			t.Fatalf("%s: event %d is %s at %d, the log has %s at %d", reader, i,
				got[i].ID, got[i].Position, want[i].ID, want[i].Position)
		}
	}
}
