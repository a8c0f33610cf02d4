package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/webhookd/webhookd/eventstore"
)

// coded is the part of *esdb.Error the adapter classifies by. Matching the
// method rather than the type lets tests build errors with any code: the
// client's Error has no exported constructor.
type coded interface {
	error
	Code() esdb.ErrorCode
}

// codeOf returns the client's error code carried anywhere in err's chain.
func codeOf(err error) (esdb.ErrorCode, bool) {
	var c coded
	if !errors.As(err, &c) {
		return esdb.ErrorCodeUnknown, false
	}
	return c.Code(), true
}

// isWrongExpectedVersion recognises a failed concurrency check. The client
// gives the result in the append reply its own code; servers that report it
// as a gRPC exception instead ("wrong-expected-version", status
// FailedPrecondition) reach us with no code the client knows, and only the
// text names it, so the text is consulted only then.
func isWrongExpectedVersion(err error) bool {
	code, ok := codeOf(err)
	if ok && code == esdb.ErrorCodeWrongExpectedVersion {
		return true
	}
	if ok && code != esdb.ErrorCodeUnknown {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "wrongexpectedversion") || strings.Contains(msg, "wrong expected version")
}

// appendError maps a failed append to the port's errors. A concurrency
// failure becomes *eventstore.WrongExpectedVersionError carrying the
// stream's actual revision, so callers can reload and retry.
func (s *Store) appendError(ctx context.Context, stream string, expected eventstore.ExpectedRevision, err error) error {
	if !isWrongExpectedVersion(err) {
		return fmt.Errorf("append %s: %w", stream, mapCommonError(ctx, err))
	}
	w := &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected}
	if exists, actual, ok := parseActual(err.Error()); ok {
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

// actualRe finds the current revision in the v4 client's text for the
// append reply, "wrong expected version: expecting '<e>' but got
// '<current>'". The gRPC-exception form ("Append failed due to
// WrongExpectedVersion. Stream: s, Expected version: n") carries the actual
// revision only in trailers the client drops, so appendError asks the server.
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
	ev, err := recv(rs)
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
	if code, ok := codeOf(err); ok && (code == esdb.ErrorCodeResourceNotFound || code == esdb.ErrorCodeStreamDeleted) {
		return eventstore.ErrStreamNotFound
	}
	return mapCommonError(ctx, err)
}

// mapCommonError maps failures any call can meet. The client reports a call
// cut short by its context as a gRPC status that does not wrap the
// context's error, so the context is asked first; a closed client is the
// port's ErrClosed; a node that is not the leader, not ready or too slow to
// answer is ErrUnavailable. The client's error stays in the chain for
// callers that log it.
func mapCommonError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	code, _ := codeOf(err)
	switch {
	case errors.Is(err, eventstore.ErrUnavailable):
		return err // mapped already, by appendRetrying
	case code == esdb.ErrorCodeConnectionClosed:
		return fmt.Errorf("%w: %w", eventstore.ErrClosed, err)
	case isTransient(err):
		return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
	}
	return err
}

// isTransient reports whether err says the node could not act on the call
// right now, so the same call may succeed shortly: it is not the leader
// (the client reconnects to the leader it names), it is unavailable (the
// client reconnects), the call's deadline passed, or the server aborted it
// (its "operation timed out" for a write not confirmed in time). For an
// append, each leaves the outcome unknown.
func isTransient(err error) bool {
	code, ok := codeOf(err)
	if !ok {
		return false
	}
	switch code {
	case esdb.ErrorCodeNotLeader, esdb.ErrorUnavailable, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorAborted:
		return true
	}
	return false
}

// ctxErr is mapCommonError for errors already in the port's terms.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}
