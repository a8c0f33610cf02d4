package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// subscribe opens a subscription after position after, closed at cleanup.
func subscribe(t *testing.T, s eventstore.Store, after eventstore.Position, prefixes ...string) eventstore.Subscription {
	t.Helper()
	sub, err := s.SubscribeAll(testContext(t), after, eventstore.Filter{TypePrefixes: prefixes})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

func testSubscribeCatchUpThenLive(t *testing.T, s eventstore.Store) {
	stream, prefix := newStream(), newTypePrefix()
	evs := events(prefix+"e.v1", 10)
	first := mustAppend(t, s, stream, eventstore.NoStream, evs[0])
	mustAppend(t, s, stream, eventstore.Exact(0), evs[1:5]...)
	sub := subscribe(t, s, first.Position-1, prefix)
	for i := range 5 {
		sameEvent(t, next(t, sub), evs[i], stream, uint64(i))
	}
	// The writer must finish before the test does: the subscriber can see
	// an event before its Append has returned, and ending the test cancels
	// the context that Append is still waiting under.
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := 5; i < 10; i++ {
			time.Sleep(5 * time.Millisecond)
			if _, err := s.Append(testContext(t), stream, eventstore.Exact(uint64(i-1)), evs[i]); err != nil {
				t.Errorf("live append %d: %v", i, err)
				return
			}
		}
	})
	defer writer.Wait()
	for i := 5; i < 10; i++ {
		sameEvent(t, next(t, sub), evs[i], stream, uint64(i))
	}
}

// testSubscribeConcurrentAppends subscribes while ten writers append
// 10,000 events, so the subscription crosses from catch-up to live under
// load; it must see every acknowledged event exactly once, in order.
func testSubscribeConcurrentAppends(t *testing.T, s eventstore.Store) {
	const writers, perWriter = 10, 1000
	prefix := newTypePrefix()
	typ := prefix + "e.v1"
	marker := mustAppend(t, s, newStream(), eventstore.NoStream, event(prefix+"marker.v1", 0))

	var acked atomic.Int64
	ids := make([][]string, writers)
	streams := make([]string, writers)
	var wg sync.WaitGroup
	for w := range writers {
		streams[w] = newStream()
		wg.Go(func() {
			for i := range perWriter {
				e := event(typ, i)
				if _, err := s.Append(testContext(t), streams[w], eventstore.Any, e); err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				ids[w] = append(ids[w], e.ID)
				acked.Add(1)
			}
		})
	}
	for acked.Load() < writers*perWriter/5 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	sub := subscribe(t, s, marker.Position, typ)
	seen := make(map[string]bool, writers*perWriter)
	revs := map[string]uint64{}
	var last eventstore.Position
	for range writers * perWriter {
		e := next(t, sub)
		if e.Position <= last {
			t.Fatalf("position %d after %d: out of order or duplicate", e.Position, last)
		}
		if seen[e.ID] {
			t.Fatalf("event %s delivered twice", e.ID)
		}
		if e.Revision != revs[e.Stream] {
			t.Fatalf("stream %s: revision %d, want %d (gap)", e.Stream, e.Revision, revs[e.Stream])
		}
		last, seen[e.ID], revs[e.Stream] = e.Position, true, e.Revision+1
	}
	wg.Wait()
	for w := range writers {
		for _, id := range ids[w] {
			if !seen[id] {
				t.Fatalf("acknowledged event %s of %s never delivered", id, streams[w])
			}
		}
	}
	ctx, cancel := context.WithTimeout(testContext(t), 100*time.Millisecond)
	defer cancel()
	if e, err := sub.Next(ctx); err == nil {
		t.Fatalf("extra event delivered: %s %s@%d", e.Type, e.Stream, e.Revision)
	}
}

func testSubscribeFilter(t *testing.T, s eventstore.Store) {
	stream, prefix := newStream(), newTypePrefix()
	kinds := []string{prefix + "alpha.v1", prefix + "beta.v1", prefix + "gamma.v1"}
	var all []eventstore.EventData
	for i := range 30 {
		all = append(all, event(kinds[i%3], i))
	}
	first := mustAppend(t, s, stream, eventstore.NoStream, all[0])
	mustAppend(t, s, stream, eventstore.Exact(0), all[1:]...)
	sub := subscribe(t, s, first.Position-1, prefix+"alpha.", prefix+"gamma.")
	for i, e := range all {
		if i%3 == 1 {
			continue
		}
		sameEvent(t, next(t, sub), e, stream, uint64(i))
	}
	// Live: a filtered-out event followed by a matching one.
	live := []eventstore.EventData{event(kinds[1], 30), event(kinds[2], 31)}
	mustAppend(t, s, stream, eventstore.Exact(29), live...)
	sameEvent(t, next(t, sub), live[1], stream, 31)
}

func testSubscriptionClose(t *testing.T, s eventstore.Store) {
	prefix := newTypePrefix()
	res := mustAppend(t, s, newStream(), eventstore.NoStream, event(prefix+"e.v1", 0))
	sub := subscribe(t, s, res.Position, prefix)
	errc := make(chan error, 1)
	go func() {
		_, err := sub.Next(testContext(t))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // let Next block
	if err := sub.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := waitErr(t, errc); !errors.Is(err, eventstore.ErrSubscriptionClosed) {
		t.Fatalf("blocked Next after Close = %v, want ErrSubscriptionClosed", err)
	}
	if _, err := sub.Next(testContext(t)); !errors.Is(err, eventstore.ErrSubscriptionClosed) {
		t.Fatalf("Next after Close = %v, want ErrSubscriptionClosed", err)
	}
}

func testSubscriptionContext(t *testing.T, s eventstore.Store) {
	prefix := newTypePrefix()
	res := mustAppend(t, s, newStream(), eventstore.NoStream, event(prefix+"e.v1", 0))
	t.Run("NextContext", func(t *testing.T) {
		sub := subscribe(t, s, res.Position, prefix)
		ctx, cancel := context.WithCancel(testContext(t))
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := sub.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next = %v, want context.Canceled", err)
		}
	})
	t.Run("SubscribeContext", func(t *testing.T) {
		ctx, cancel := context.WithCancel(testContext(t))
		sub, err := s.SubscribeAll(ctx, res.Position, eventstore.Filter{TypePrefixes: []string{prefix}})
		if err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		defer sub.Close()
		time.AfterFunc(20*time.Millisecond, cancel)
		if _, err := sub.Next(testContext(t)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next after the subscription's context ended = %v, want context.Canceled", err)
		}
	})
}

func testStoreClose(t *testing.T, s eventstore.Store) {
	prefix := newTypePrefix()
	res := mustAppend(t, s, newStream(), eventstore.NoStream, event(prefix+"e.v1", 0))
	sub := subscribe(t, s, res.Position, prefix)
	errc := make(chan error, 1)
	go func() {
		_, err := sub.Next(testContext(t))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	if err := waitErr(t, errc); !errors.Is(err, eventstore.ErrSubscriptionClosed) {
		t.Fatalf("Next after the store closed = %v, want ErrSubscriptionClosed", err)
	}
	if _, err := s.Append(testContext(t), newStream(), eventstore.Any, event(prefix+"e.v1", 1)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after close = %v, want ErrClosed", err)
	}
}

func waitErr(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not return")
		return fmt.Errorf("unreachable")
	}
}
