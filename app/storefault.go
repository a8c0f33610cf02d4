package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// errStoreUnavailable is what callers are shown when the store refuses a
// write: nothing was accepted, and the same call may succeed later.
var errStoreUnavailable = &domain.Error{
	Code:    domain.ESTOREUNAVAILABLE,
	Message: "the event store is refusing writes (for example, its disk is full); nothing in this call was accepted; retry later",
}

// storeFault is an append that failed for a reason of the store's own (a
// full disk, a lost connection), not a conflict or a cancelled call. It
// carries the user-safe STORE_UNAVAILABLE error for adapters and the cause
// for the log.
type storeFault struct {
	op    string
	cause error
}

func (e *storeFault) Error() string {
	return fmt.Sprintf("%s: %v (%s)", e.op, e.cause, domain.ESTOREUNAVAILABLE)
}

// Unwrap exposes both the domain error, so adapters map the code, and the
// cause, so errors.Is still finds ENOSPC or eventstore.ErrClosed.
func (e *storeFault) Unwrap() []error { return []error{errStoreUnavailable, e.cause} }

// classifyAppend turns an append failure into a storeFault unless it is a
// conflict the caller decides on, a cancelled call or already a domain
// error.
func classifyAppend(stream string, err error) error {
	var de *domain.Error
	switch {
	case err == nil, eventstore.IsWrongExpectedVersion(err), errors.As(err, &de),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return &storeFault{op: "append " + stream, cause: err}
}

// IsStoreUnavailable reports whether err is a storage fault that refused a
// write, so a caller may be told to retry later.
func IsStoreUnavailable(err error) bool {
	return domain.ErrorCode(err) == domain.ESTOREUNAVAILABLE
}
