// Package domain holds webhookd's business rules: the aggregates (webhook,
// message, delivery, account), their commands and events, and the pure
// functions that decide and evolve them. It performs no I/O; adapters in
// other packages load state, call decide, and append the resulting events.
package domain

import (
	"errors"
	"fmt"
)

// Error codes. They are stable strings because they travel to API clients as
// GraphQL userErrors.code and extensions.code.
const (
	ECONFLICT        = "CONFLICT"        // concurrent change; reload and retry
	EINVALID         = "INVALID"         // the input breaks a rule
	ENOTFOUND        = "NOT_FOUND"       // no such object (or not the caller's)
	EUNAUTHENTICATED = "UNAUTHENTICATED" // no valid credentials
	EFORBIDDEN       = "FORBIDDEN"       // credentials lack the scope
	ETOOLARGE        = "TOO_LARGE"       // a payload exceeds its limit
	ERATELIMITED     = "RATE_LIMITED"    // slow down
	EINTERNAL        = "INTERNAL"        // a fault; details are logged, not shown
	// ESTOREUNAVAILABLE is a storage fault (a full disk, a lost store
	// connection): nothing in the call was accepted, and the same call may
	// succeed later. It is a fault, never a user mistake.
	ESTOREUNAVAILABLE = "STORE_UNAVAILABLE"
)

// StoreRetryAfter is how long a caller refused with ESTOREUNAVAILABLE is
// told to wait before trying again: long enough not to add load to a store
// that is refusing writes, short enough that a freed disk is used soon.
const StoreRetryAfter = 5 // seconds

// Error is the application error. Message is safe to show to users; Field,
// when set, names the input field at fault so a UI can show the message
// beside it.
type Error struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Field, e.Message, e.Code)
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an *Error about one input field.
func FieldErrorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of an application error, or EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the user-safe message of an application error, or a
// generic message for any other error, whose details must not leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
