package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/webhookd/webhookd/eventstore"
)

// transient reports whether err is a lost or refused connection, or a
// server shutting down or out of resources: worth retrying on a fresh
// connection. Errors of the statement itself are not.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "57P") || strings.HasPrefix(c, "53") || c == "40001" || c == "40P01"
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connErr) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// duplicateID reports whether err is the unique index on event IDs
// refusing an ID stored elsewhere.
func duplicateID(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "webhookd_events_id"
}

// ctxErr prefers the context's error when it has ended, so callers see
// context.Canceled rather than what pgx made of it.
func ctxErr(ctx context.Context, err error) error {
	if c := ctx.Err(); c != nil {
		return c
	}
	return err
}

// closedErr maps the pool closing under an operation to ErrClosed.
func (s *Store) closedErr(err error) error {
	select {
	case <-s.closing:
		return eventstore.ErrClosed
	default:
		return err
	}
}

// backoff is a capped exponential delay between reconnection attempts.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{d: 50 * time.Millisecond} }

func (b *backoff) reset() { b.d = 50 * time.Millisecond }

// next returns the current delay and doubles it, to at most 5 s.
func (b *backoff) next() time.Duration {
	d := b.d
	b.d = min(2*b.d, 5*time.Second)
	return d
}

// wait sleeps the next delay; false if ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retry runs op until it succeeds, fails for a reason other than a lost
// connection, or has been tried three times. Only reads use it: retrying
// them on a fresh connection is always safe.
func retry(ctx context.Context, op func() error) error {
	b := newBackoff()
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || !transient(err) || attempt == 3 || !b.wait(ctx) {
			return err
		}
	}
}
