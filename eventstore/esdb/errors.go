package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/webhookd/webhookd/eventstore"
)

// appendError maps a failed append to the port's errors. A concurrency
// failure becomes *eventstore.WrongExpectedVersionError carrying the
// stream's actual revision, so callers can reload and retry.
func (s *Store) appendError(ctx context.Context, stream string, expected eventstore.ExpectedRevision, err error) error {
	var e *esdb.Error
	if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeWrongExpectedVersion {
		return fmt.Errorf("append %s: %w", stream, mapCommonError(ctx, err))
	}
	w := &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected}
	if exists, actual, ok := parseActual(e.Error()); ok {
		w.ActualExists, w.Actual = exists, actual
		return w
	}
	// The v4 client keeps the server's current revision only inside the
	// error's text. Should that text ever change, ask the server instead:
	// the answer may be newer than the failed append saw, which is still a
	// revision the caller must reload past.
	exists, actual, rerr := s.lastRevision(ctx, stream)
	if rerr != nil {
		return fmt.Errorf("%w (reading its actual revision failed: %v)", w, rerr)
	}
	w.ActualExists, w.Actual = exists, actual
	return w
}

// actualRe finds the current revision in the v4 client's message
// "wrong expected version: expecting '<e>' but got '<current>'".
var actualRe = regexp.MustCompile(`but got '([^']*)'`)

// parseActual extracts the stream's current revision from the text of a
// WrongExpectedVersion error. ok is false when the text is not recognised.
func parseActual(msg string) (exists bool, actual uint64, ok bool) {
	m := actualRe.FindStringSubmatch(msg)
	if m == nil {
		return false, 0, false
	}
	if m[1] == "no_stream" {
		return false, 0, true
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return false, 0, false
	}
	return true, n, true
}

// lastRevision reads the revision of the last event of stream.
func (s *Store) lastRevision(ctx context.Context, stream string) (exists bool, rev uint64, err error) {
	rs, err := s.client.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return false, 0, err
	}
	defer rs.Close()
	ev, err := rs.Recv()
	switch {
	case errors.Is(err, io.EOF), errors.Is(mapReadError(ctx, err), eventstore.ErrStreamNotFound):
		return false, 0, nil
	case err != nil:
		return false, 0, err
	}
	return true, ev.OriginalEvent().EventNumber, nil
}

// mapReadError maps a failed read: a stream that does not exist, or was
// deleted, is ErrStreamNotFound to the port.
func mapReadError(ctx context.Context, err error) error {
	var e *esdb.Error
	if errors.As(err, &e) && (e.Code() == esdb.ErrorCodeResourceNotFound || e.Code() == esdb.ErrorCodeStreamDeleted) {
		return eventstore.ErrStreamNotFound
	}
	return mapCommonError(ctx, err)
}

// mapCommonError maps failures any call can meet. The client reports a call
// cut short by its context as a gRPC status that does not wrap the
// context's error, so the context is asked first; a closed client is the
// port's ErrClosed. Everything else passes through, keeping the *esdb.Error
// for callers that log it.
func mapCommonError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	var e *esdb.Error
	if errors.As(err, &e) && e.Code() == esdb.ErrorCodeConnectionClosed {
		return fmt.Errorf("%w: %v", eventstore.ErrClosed, err)
	}
	return err
}

// ctxErr is mapCommonError for errors already in the port's terms.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}
