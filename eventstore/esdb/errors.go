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
		return fmt.Errorf("append %s: %w", stream, mapCommonError(err))
	}
	w := &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected}
	if exists, actual, ok := parseActual(e); ok {
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

// parseActual extracts the stream's current revision from a
// WrongExpectedVersion error. ok is false when the text is not recognised.
func parseActual(e *esdb.Error) (exists bool, actual uint64, ok bool) {
	if e.Err() == nil {
		return false, 0, false
	}
	m := actualRe.FindStringSubmatch(e.Err().Error())
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
	case errors.Is(err, io.EOF), errors.Is(mapReadError(err), eventstore.ErrStreamNotFound):
		return false, 0, nil
	case err != nil:
		return false, 0, err
	}
	return true, ev.OriginalEvent().EventNumber, nil
}

// mapReadError maps a failed read: a stream that does not exist, or was
// deleted, is ErrStreamNotFound to the port.
func mapReadError(err error) error {
	var e *esdb.Error
	if errors.As(err, &e) && (e.Code() == esdb.ErrorCodeResourceNotFound || e.Code() == esdb.ErrorCodeStreamDeleted) {
		return eventstore.ErrStreamNotFound
	}
	return mapCommonError(err)
}

// mapCommonError maps failures any call can meet: a closed client is the
// port's ErrClosed. Everything else passes through wrapped, keeping the
// *esdb.Error for callers that log it.
func mapCommonError(err error) error {
	var e *esdb.Error
	if errors.As(err, &e) && e.Code() == esdb.ErrorCodeConnectionClosed {
		return fmt.Errorf("%w: %v", eventstore.ErrClosed, err)
	}
	return err
}
