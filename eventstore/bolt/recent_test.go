package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

// readAllFromFile reads every record after position after that filter
// matches, from the file.
func readAllFromFile(t *testing.T, s *bolt.Store, filter eventstore.Filter) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for after := eventstore.Start; ; {
		page, err := s.ReadAll(t.Context(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		for _, r := range page {
			if filter.Match(r.Type) {
				out = append(out, r)
			}
		}
		after = page[len(page)-1].Position
	}
}

// subscribeFor collects n records of a subscription after position after.
func subscribeFor(t *testing.T, s *bolt.Store, after eventstore.Position, filter eventstore.Filter, n int) []eventstore.RecordedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sub, err := s.SubscribeAll(ctx, after, filter)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var out []eventstore.RecordedEvent
	for len(out) < n {
		r, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("after %d records: %v", len(out), err)
		}
		out = append(out, r)
	}
	return out
}

// A subscription takes the newest records from memory (the last 2,048)
// and older ones from the file; either way it is handed exactly what a
// read of the file returns, field by field, with and without a filter,
// and from a cursor that crosses from the file into memory.
func TestSubscriptionsReadRecentRecordsAsTheFileHasThem(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true})
	total := 0
	for i := 0; total < 6000; i++ {
		var events []eventstore.EventData
		for j := range 1 + i%7 {
			e := ev([]string{"a.one.v1", "b.two.v1"}[(i+j)%2], total)
			if j%3 == 1 {
				e.Metadata = fmt.Appendf(nil, `{"m":%d}`, total)
			}
			events = append(events, e)
			total++
		}
		if _, err := s.Append(t.Context(), fmt.Sprintf("delivery-%d", i%50), eventstore.Any, events...); err != nil {
			t.Fatal(err)
		}
	}
	for _, filter := range []eventstore.Filter{{}, {TypePrefixes: []string{"b."}}} {
		want := readAllFromFile(t, s, filter)
		got := subscribeFor(t, s, eventstore.Start, filter, len(want))
		if !reflect.DeepEqual(got, want) {
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("filter %v: record %d from the subscription %+v, from the file %+v", filter, i, got[i], want[i])
				}
			}
		}
	}
	// Live: a subscription at the head gets what is committed after it
	// started, as the file has it.
	head := readAllFromFile(t, s, eventstore.Filter{})
	from := head[len(head)-1].Position
	done := make(chan []eventstore.RecordedEvent)
	go func() { done <- subscribeFor(t, s, from, eventstore.Filter{}, 30) }()
	for i := range 10 {
		if _, err := s.Append(t.Context(), "webhook-live", eventstore.Any, ev("c.v1", i), ev("c.v1", i), ev("c.v1", i)); err != nil {
			t.Fatal(err)
		}
	}
	got := <-done
	all := readAllFromFile(t, s, eventstore.Filter{})
	if want := all[len(all)-30:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("live records differ from the file's:\n got %+v\nwant %+v", got[0], want[0])
	}
}

// Records retention removed from the file are not handed out from memory.
func TestSweptRecordsAreNotSubscribedFromMemory(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := mustOpen(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true, Now: clock.Now, SweepInterval: -1})
	ctx := t.Context()
	if _, err := s.Append(ctx, "delivery-1", eventstore.NoStream, ev("x.v1", 0), ev("x.v1", 1), ev("x.v1", 2)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := s.Append(ctx, "delivery-2", eventstore.NoStream, ev("x.v1", 3), ev("x.v1", 4)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMaxAge(ctx, "delivery", time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 3 {
		t.Fatalf("sweep removed %d, %v; want 3", n, err)
	}
	got := subscribeFor(t, s, eventstore.Start, eventstore.Filter{}, 2)
	if got[0].Stream != "delivery-2" || got[0].Revision != 0 || got[1].Revision != 1 {
		t.Fatalf("first records after the sweep: %s@%d, %s@%d; want delivery-2@0 and @1", got[0].Stream, got[0].Revision, got[1].Stream, got[1].Revision)
	}
}
