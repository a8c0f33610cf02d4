package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrStreamNotFound is returned when reading a stream that has no events.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrEventTooLarge is returned when an event exceeds MaxEventSize.
	ErrEventTooLarge = errors.New("eventstore: event too large")
	// ErrInvalidEvent is returned for an event without an ID or type, or with
	// an ID that is not a UUID.
	ErrInvalidEvent = errors.New("eventstore: invalid event")
	// ErrClosed is returned by operations on a closed store.
	ErrClosed = errors.New("eventstore: store closed")
	// ErrSubscriptionClosed ends a subscription that was closed.
	ErrSubscriptionClosed = errors.New("eventstore: subscription closed")
	// ErrUnavailable is returned when the store could not be reached or did
	// not answer (no leader, node unavailable, deadline exceeded) and
	// retrying safely was not possible or did not help. For an append the
	// outcome is unknown: the events may or may not have been written, so a
	// caller must never treat it as success; reading the stream again tells.
	ErrUnavailable = errors.New("eventstore: store unavailable")
)

// IsUnavailable reports whether err is (or wraps) ErrUnavailable, so the
// application layer can answer STORE_UNAVAILABLE rather than an internal
// error.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// WrongExpectedVersionError is returned by Append when the stream is not at
// the expected revision. It carries the actual state so the caller can
// reload and retry.
type WrongExpectedVersionError struct {
	Stream   string
	Expected ExpectedRevision
	// ActualExists is false when the stream has no events; Actual is then
	// meaningless.
	ActualExists bool
	Actual       uint64
}

func (e *WrongExpectedVersionError) Error() string {
	actual := "no stream"
	if e.ActualExists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("eventstore: append to %s: expected %s, stream is at %s", e.Stream, e.Expected, actual)
}

// IsWrongExpectedVersion reports whether err is (or wraps) a
// *WrongExpectedVersionError.
func IsWrongExpectedVersion(err error) bool {
	var w *WrongExpectedVersionError
	return errors.As(err, &w)
}

// CorruptionError reports damaged data found in a backend's files. It names
// the file and the byte offset so an operator can act on it; backends never
// silently skip damaged records.
type CorruptionError struct {
	File   string
	Offset int64
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("eventstore: %s is corrupt at offset %d: %s", e.File, e.Offset, e.Reason)
}
