package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/webhookd/webhookd/eventstore"
)

// Page sizes for subscriptions: how many matching events one read returns,
// and how many records one read may look at when a filter skips most of
// them. Both bound the memory and the read-transaction time of a
// subscriber, however far behind it is.
const (
	subPageEvents = 512
	subPageScan   = 4096
)

// SubscribeAll returns a subscription to every event after position after
// that matches filter. It is pull-based: it reads pages from the file
// behind its cursor, and once caught up waits for the next commit. It holds
// at most one page in memory and never blocks writers.
func (s *Store) SubscribeAll(ctx context.Context, after eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe after %d: %w", after, err)
	}
	if s.isClosed() {
		return nil, fmt.Errorf("subscribe after %d: %w", after, eventstore.ErrClosed)
	}
	return &subscription{s: s, ctx: ctx, cursor: after, filter: filter, done: make(chan struct{})}, nil
}

// subscription is one reader's cursor. Next is meant for one goroutine;
// Close may be called from any.
type subscription struct {
	s      *Store
	ctx    context.Context // the SubscribeAll context: ends the subscription
	cursor eventstore.Position
	filter eventstore.Filter
	page   []eventstore.RecordedEvent
	i      int

	once sync.Once
	done chan struct{}
}

// Next returns the next matching event, blocking until one is committed.
func (sub *subscription) Next(ctx context.Context) (eventstore.RecordedEvent, error) {
	for {
		if err := sub.ended(ctx); err != nil {
			return eventstore.RecordedEvent{}, err
		}
		if sub.i < len(sub.page) {
			ev := sub.page[sub.i]
			sub.page[sub.i] = eventstore.RecordedEvent{} // let the payload go
			sub.i++
			return ev, nil
		}
		// Take the signal before reading: a commit landing between the read
		// and the wait then wakes us instead of being missed.
		signal := sub.s.commitSignal()
		page, last, held := sub.s.recent.after(sub.cursor, subPageEvents, subPageScan, sub.filter)
		var err error
		if !held {
			page, last, err = sub.s.readPage(ctx, sub.cursor, subPageEvents, subPageScan, sub.filter)
		}
		if err != nil {
			if errors.Is(err, eventstore.ErrClosed) {
				return eventstore.RecordedEvent{}, eventstore.ErrSubscriptionClosed
			}
			return eventstore.RecordedEvent{}, fmt.Errorf("subscription after %d: %w", sub.cursor, err)
		}
		moved := last != sub.cursor
		sub.cursor, sub.page, sub.i = last, page, 0
		if moved {
			continue
		}
		select {
		case <-signal:
		case <-ctx.Done():
		case <-sub.ctx.Done():
		case <-sub.done:
		case <-sub.s.closing:
		}
	}
}

// ended returns why the subscription can no longer deliver, or nil.
func (sub *subscription) ended(ctx context.Context) error {
	select {
	case <-sub.done:
		return eventstore.ErrSubscriptionClosed
	case <-sub.s.closing:
		return eventstore.ErrSubscriptionClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return sub.ctx.Err()
}

// Close ends the subscription; a Next blocked in another goroutine returns
// ErrSubscriptionClosed.
func (sub *subscription) Close() error {
	sub.once.Do(func() { close(sub.done) })
	return nil
}
