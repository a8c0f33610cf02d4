package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// subPage is how many events one subscription read fetches: it bounds a
// subscriber's memory however far behind it is.
const subPage = 256

// SubscribeAll returns a subscription to every event after position after
// that matches filter. It is a pull cursor: it reads pages below the
// horizon (read.go), and once caught up waits for a local commit, a
// notification from another instance, or the poll interval, whichever
// comes first, then reads again. The table is the only source of events,
// so a lost notification costs at most one poll interval. It never holds a
// connection while waiting and never blocks writers; a dropped connection
// is retried from the same cursor, so it resumes with no gap.
func (s *Store) SubscribeAll(ctx context.Context, after eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("subscribe after %d: %w", after, err)
	}
	done, err := s.enter()
	if err != nil {
		return nil, fmt.Errorf("subscribe after %d: %w", after, err)
	}
	done()
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

	// failed is the last read failure while reads are failing (Next
	// retries them), nil after a read succeeds.
	failed atomic.Pointer[error]
}

var _ eventstore.ConnectionState = (*subscription)(nil)

// Disconnected returns the last read failure while the subscription is
// retrying reads, nil while they succeed.
func (sub *subscription) Disconnected() error {
	if p := sub.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// Next returns the next matching event, blocking until one is committed
// and every transaction older than it has ended.
func (sub *subscription) Next(ctx context.Context) (eventstore.RecordedEvent, error) {
	backoff := newBackoff()
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
		full, err := sub.fill(ctx)
		switch {
		case err != nil && transient(err) && sub.ended(ctx) == nil:
			sub.s.log.Warn("event store: subscription read failed; retrying", "after", sub.cursor, "err", err)
			sub.failed.Store(&err)
			sub.wait(ctx, nil, backoff.next())
			continue
		case err != nil:
			if e := sub.ended(ctx); e != nil {
				return eventstore.RecordedEvent{}, e
			}
			return eventstore.RecordedEvent{}, fmt.Errorf("subscription after %d: %w", sub.cursor, err)
		}
		backoff.reset()
		sub.failed.Store(nil)
		if full || len(sub.page) > 0 {
			continue
		}
		sub.wait(ctx, signal, sub.s.poll)
	}
}

// fill reads the next page behind the cursor, keeps the events that match
// the filter, and moves the cursor past everything it has looked at: to
// the horizon when the page was not full. It reports whether it was full.
func (sub *subscription) fill(ctx context.Context) (bool, error) {
	done, err := sub.s.enter()
	if err != nil {
		return false, err
	}
	defer done()
	p, err := sub.s.readPage(ctx, sub.cursor, subPage)
	if err != nil {
		return false, err
	}
	sub.page, sub.i = sub.page[:0], 0
	for _, e := range p.events {
		if sub.filter.Match(e.Type) {
			sub.page = append(sub.page, e)
		}
		sub.cursor = e.Position
	}
	full := len(p.events) == subPage
	if !full && !sub.s.naive && p.horizon > 0 && p.horizon-1 > sub.cursor {
		sub.cursor = p.horizon - 1
	}
	return full, nil
}

// wait blocks until signal fires, d passes, or the subscription ends.
func (sub *subscription) wait(ctx context.Context, signal <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-signal:
	case <-t.C:
	case <-ctx.Done():
	case <-sub.ctx.Done():
	case <-sub.done:
	case <-sub.s.closing:
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
