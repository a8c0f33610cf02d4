package esdb

import (
	"context"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/webhookd/webhookd/eventstore"
)

// Retrying appends.
//
// An append that fails with NotLeader, Unavailable, DeadlineExceeded or
// Aborted may or may not have been written. Returned as a plain error, the
// dispatcher would take its attempt as unrecorded and send it again. So the
// adapter sends the same append again, after a bounded back-off, while the
// client reconnects to the leader; only when that is safe and while it
// helps:
//
//   - Safe means idempotent by event ID. The retry resends the very same
//     events (toEventData runs once, so every try carries the caller's
//     IDs), and with an Exact or NoStream expectation EventStoreDB
//     recognises events already written at that revision by their IDs and
//     answers success without writing them twice. With Any or StreamExists
//     it only checks a bounded cache of recent IDs, so those appends are not
//     retried.
//   - When retrying is unsafe or the tries run out, the error is
//     eventstore.ErrUnavailable: the outcome is unknown, never success.

// retryPolicy bounds the re-sends of an append whose outcome is unknown.
type retryPolicy struct {
	attempts int           // tries in all, the first included
	first    time.Duration // wait before the second try, doubling after
	max      time.Duration // longest wait between tries
}

// defaultRetry spans about five seconds, the time a cluster typically takes
// to elect a new leader.
var defaultRetry = retryPolicy{attempts: 6, first: 200 * time.Millisecond, max: 2 * time.Second}

// appendFunc is the client's AppendToStream; tests replace it.
type appendFunc func(ctx context.Context, stream string, opts esdb.AppendToStreamOptions, events ...esdb.EventData) (*esdb.WriteResult, error)

// idempotentByID reports whether resending an append with the same event IDs
// cannot write them twice.
func idempotentByID(expected eventstore.ExpectedRevision) bool {
	_, exact := expected.ExactRevision()
	return exact || expected.IsNoStream()
}

// appendRetrying sends an append, and sends it again while it fails
// transiently and resending is safe. Errors other than transient ones are
// returned as they are, for appendError to map.
func (s *Store) appendRetrying(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []esdb.EventData) (*esdb.WriteResult, error) {
	opts := esdb.AppendToStreamOptions{ExpectedRevision: toExpectedRevision(expected)}
	wait := s.retry.first
	for try := 1; ; try++ {
		res, err := s.appendFn(ctx, stream, opts, events...)
		if err == nil || !isTransient(err) || ctx.Err() != nil {
			return res, err
		}
		if !idempotentByID(expected) {
			return nil, fmt.Errorf("%w: outcome unknown, not resent (expected %s is not idempotent by event ID): %w", eventstore.ErrUnavailable, expected, err)
		}
		if try >= s.retry.attempts {
			return nil, fmt.Errorf("%w: outcome unknown after %d tries: %w", eventstore.ErrUnavailable, try, err)
		}
		if werr := sleep(ctx, wait); werr != nil {
			return nil, fmt.Errorf("%w: outcome unknown, %w while waiting to resend after: %w", eventstore.ErrUnavailable, werr, err)
		}
		wait = min(2*wait, s.retry.max)
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
