package esdb

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// fakeReceiver stands in for *esdb.Subscription: Recv returns what the test
// feeds it, and drops once closed, as the client does when its stream is
// cancelled.
type fakeReceiver struct {
	feed      chan *esdb.SubscriptionEvent
	closeOnce sync.Once
	closed    chan struct{}
}

func newFakeReceiver() *fakeReceiver {
	return &fakeReceiver{feed: make(chan *esdb.SubscriptionEvent), closed: make(chan struct{})}
}

func (f *fakeReceiver) Recv() *esdb.SubscriptionEvent {
	select {
	case ev := <-f.feed:
		return ev
	case <-f.closed:
		return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: errors.New("context canceled")}}
	}
}

func (f *fakeReceiver) Close() error {
	f.closeOnce.Do(func() { close(f.closed) })
	return nil
}

func appeared(commit uint64, typ string) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{EventAppeared: &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID: uuid.New(), EventType: typ, StreamID: "s-1",
		Position: pos(commit),
	}}}
}

func startSub(t *testing.T, ctx context.Context, after eventstore.Position, filter eventstore.Filter) (*subscription, *fakeReceiver) {
	t.Helper()
	f := newFakeReceiver()
	sub := newSubscription(ctx, f, after, filter, &Store{subs: map[*subscription]struct{}{}})
	go sub.pump()
	t.Cleanup(func() { sub.Close() })
	return sub, f
}

func next(t *testing.T, sub *subscription) eventstore.RecordedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return ev
}

func TestSubscription(t *testing.T) {
	t.Run("SkipsUnwantedEvents", func(t *testing.T) {
		sub, f := startSub(t, context.Background(), toPosition(pos(100)), eventstore.Filter{TypePrefixes: []string{"webhook."}})
		go func() {
			f.feed <- appeared(100, "webhook.created.v1") // at after itself: already seen
			f.feed <- appeared(120, "$metadata")          // system event
			f.feed <- &esdb.SubscriptionEvent{CheckPointReached: &esdb.Position{Commit: 130}}
			f.feed <- appeared(140, "delivery.scheduled.v1") // filtered out
			f.feed <- appeared(150, "webhook.updated.v1")
		}()
		if ev := next(t, sub); ev.Type != "webhook.updated.v1" || ev.Position != toPosition(pos(150)) {
			t.Fatalf("got %s at %d, want webhook.updated.v1 at %d", ev.Type, ev.Position, toPosition(pos(150)))
		}
	})

	t.Run("NextContextCancelledKeepsEvent", func(t *testing.T) {
		sub, f := startSub(t, context.Background(), eventstore.Start, eventstore.Filter{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := sub.Next(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next(cancelled) = %v, want context.Canceled", err)
		}
		go func() { f.feed <- appeared(0, "a.v1") }()
		if ev := next(t, sub); ev.Type != "a.v1" || ev.Position != toPosition(pos(0)) {
			t.Fatalf("got %+v after a cancelled Next", ev)
		}
	})

	t.Run("ErrSubscriptionClosed", func(t *testing.T) {
		sub, f := startSub(t, context.Background(), eventstore.Start, eventstore.Filter{})
		go func() { f.feed <- appeared(1, "a.v1") }() // buffered but never read
		time.Sleep(10 * time.Millisecond)
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := sub.Next(context.Background()); !errors.Is(err, eventstore.ErrSubscriptionClosed) {
				t.Fatalf("Next after Close = %v, want ErrSubscriptionClosed", err)
			}
		}
	})

	t.Run("CloseUnblocksNext", func(t *testing.T) {
		sub, _ := startSub(t, context.Background(), eventstore.Start, eventstore.Filter{})
		errc := make(chan error, 1)
		go func() {
			_, err := sub.Next(context.Background())
			errc <- err
		}()
		time.Sleep(10 * time.Millisecond)
		sub.Close()
		select {
		case err := <-errc:
			if !errors.Is(err, eventstore.ErrSubscriptionClosed) {
				t.Fatalf("Next = %v, want ErrSubscriptionClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Next still blocked after Close")
		}
	})

	t.Run("SubscriptionContextEnds", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		sub, f := startSub(t, ctx, eventstore.Start, eventstore.Filter{})
		cancel()
		f.Close() // the client drops the stream when its context ends
		if _, err := sub.Next(context.Background()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Next = %v, want context.Canceled", err)
		}
	})

	t.Run("DroppedByServer", func(t *testing.T) {
		sub, f := startSub(t, context.Background(), eventstore.Start, eventstore.Filter{})
		boom := errors.New("server went away")
		go func() {
			f.feed <- &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: boom}}
		}()
		_, err := sub.Next(context.Background())
		if !errors.Is(err, boom) {
			t.Fatalf("Next = %v, want it to wrap %v", err, boom)
		}
		if _, err2 := sub.Next(context.Background()); !errors.Is(err2, boom) {
			t.Fatalf("second Next = %v, want the same end", err2)
		}
	})

	t.Run("StoreCloseEndsSubscriptions", func(t *testing.T) {
		f := newFakeReceiver()
		s := &Store{subs: map[*subscription]struct{}{}}
		sub := newSubscription(context.Background(), f, eventstore.Start, eventstore.Filter{}, s)
		s.subs[sub] = struct{}{}
		go sub.pump()
		s.closeSubscriptions()
		if _, err := sub.Next(context.Background()); !errors.Is(err, eventstore.ErrSubscriptionClosed) {
			t.Fatalf("Next = %v, want ErrSubscriptionClosed", err)
		}
	})
}
