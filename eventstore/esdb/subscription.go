package esdb

import (
	"context"
	"fmt"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/webhookd/webhookd/eventstore"
)

// SubscribeAll implements eventstore.Store with a catch-up subscription to
// $all. The server filters by event-type prefix; the same filter, the
// system-event rule and the "after" rule are applied again here so what
// the port sees never depends on server-side filter details. ctx bounds the
// whole subscription.
func (s *Store) SubscribeAll(ctx context.Context, after eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("subscribe $all: %w", err)
	}
	from, err := s.startBefore(ctx, after)
	if err != nil {
		return nil, fmt.Errorf("subscribe $all after %d: %w", after, mapCommonError(ctx, err))
	}
	inner, err := s.client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from, Filter: toFilter(filter)})
	if err != nil {
		return nil, fmt.Errorf("subscribe $all after %d: %w", after, mapCommonError(ctx, err))
	}
	sub := newSubscription(ctx, inner, after, filter, s)
	s.mu.Lock()
	if s.subs == nil { // closed while subscribing
		s.mu.Unlock()
		inner.Close()
		return nil, eventstore.ErrClosed
	}
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	go sub.pump()
	return sub, nil
}

// toFilter translates the port's filter. An empty filter still excludes
// system events on the server, so they do not cross the network.
func toFilter(f eventstore.Filter) *esdb.SubscriptionFilter {
	if len(f.TypePrefixes) == 0 {
		return esdb.ExcludeSystemEventsFilter()
	}
	return &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: f.TypePrefixes}
}

// receiver is the part of *esdb.Subscription the adapter uses.
type receiver interface {
	Recv() *esdb.SubscriptionEvent
	Close() error
}

// subscription runs the client's blocking Recv in its own goroutine (pump)
// and hands events over a one-slot channel, so that Next can also wait on
// its context and on Close. The slot plus gRPC flow control bound what a
// slow reader makes us buffer.
type subscription struct {
	inner  receiver
	ctx    context.Context
	after  eventstore.Position
	filter eventstore.Filter
	store  *Store

	events chan eventstore.RecordedEvent
	closed chan struct{} // closed by Close
	done   chan struct{} // closed when pump returns, after err is set
	err    error         // why the subscription ended

	closeOnce sync.Once
}

func newSubscription(ctx context.Context, inner receiver, after eventstore.Position, filter eventstore.Filter, store *Store) *subscription {
	return &subscription{
		inner:  inner,
		ctx:    ctx,
		after:  after,
		filter: filter,
		store:  store,
		events: make(chan eventstore.RecordedEvent, 1),
		closed: make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// pump receives from the server until the subscription drops or is closed.
func (s *subscription) pump() {
	defer close(s.done)
	for {
		ev := subscriptionRecv(s.inner)
		if ev.SubscriptionDropped != nil {
			s.err = s.endError(ev.SubscriptionDropped.Error)
			return
		}
		if ev.EventAppeared == nil {
			continue // checkpoints, caught-up and fell-behind notices
		}
		rec := ev.EventAppeared.OriginalEvent()
		if !keep(rec, s.after, s.filter) {
			continue
		}
		select {
		case s.events <- toRecorded(rec):
		case <-s.closed:
			s.err = eventstore.ErrSubscriptionClosed
			return
		}
	}
}

// endError names why the server side ended: our Close, the subscription's
// context, or a real drop.
func (s *subscription) endError(dropped error) error {
	select {
	case <-s.closed:
		return eventstore.ErrSubscriptionClosed
	default:
	}
	if err := s.ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("esdb subscription dropped: %w", mapCommonError(s.ctx, dropped))
}

// Next implements eventstore.Subscription.
func (s *subscription) Next(ctx context.Context) (eventstore.RecordedEvent, error) {
	select {
	case <-s.closed:
		return eventstore.RecordedEvent{}, eventstore.ErrSubscriptionClosed
	default:
	}
	select {
	case ev := <-s.events:
		return ev, nil
	case <-s.done:
		// The pump may have handed over one last event before it ended.
		select {
		case ev := <-s.events:
			return ev, nil
		default:
			return eventstore.RecordedEvent{}, s.err
		}
	case <-s.closed:
		return eventstore.RecordedEvent{}, eventstore.ErrSubscriptionClosed
	case <-s.ctx.Done():
		return eventstore.RecordedEvent{}, s.ctx.Err()
	case <-ctx.Done():
		return eventstore.RecordedEvent{}, ctx.Err()
	}
}

// Close implements eventstore.Subscription. It waits for the pump to stop,
// so no goroutine outlives the subscription.
func (s *subscription) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.inner.Close()
		<-s.done
		s.store.mu.Lock()
		delete(s.store.subs, s) // no-op once the store has taken the map
		s.store.mu.Unlock()
	})
	return nil
}
