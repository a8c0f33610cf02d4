package domain

import (
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// DeliveryStreamCategory is the category of delivery streams; retention
// applies per category.
const DeliveryStreamCategory = "delivery"

// DeliveryStream names the event stream of one delivery aggregate: one
// message on its way to one webhook.
func DeliveryStream(id string) string { return DeliveryStreamCategory + "-" + id }

// DeliveryIDFromStream returns the delivery ID of a delivery stream name,
// and false for any other stream.
func DeliveryIDFromStream(stream string) (string, bool) {
	return idFromStream(stream, DeliveryStreamCategory)
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// Delivery statuses. Succeeded and failed are final until a redelivery is
// requested, which makes the delivery pending again.
const (
	DeliveryStatusPending   DeliveryStatus = "pending"  // no attempt yet in this round
	DeliveryStatusRetrying  DeliveryStatus = "retrying" // attempted, another is due at NextAttemptAt
	DeliveryStatusSucceeded DeliveryStatus = "succeeded"
	DeliveryStatusFailed    DeliveryStatus = "failed"
)

// Limits on what an attempt records, so one chatty receiver cannot bloat
// the log: the design keeps at most 4 KiB of response body.
const (
	MaxResponseExcerpt = 4 << 10
	MaxErrorMessage    = 1 << 10
)

// DeliveryState is the delivery aggregate, folded from its stream by
// EvolveDelivery.
type DeliveryState struct {
	ID        string
	MessageID string
	WebhookID string
	AccountID string
	EventType string
	// Test marks deliveries sent by the testing tool; they are shown apart
	// and never count towards disabling a webhook.
	Test bool

	Status DeliveryStatus
	// Attempts counts every attempt ever made; RoundAttempts only those
	// since scheduling or the last redelivery, which is what the retry
	// schedule is indexed by.
	Attempts      int
	RoundAttempts int
	// NextAttemptAt is when the next attempt is due (pending or retrying).
	NextAttemptAt time.Time
	// LastStatusCode, LastErrClass and LastAttemptAt describe the latest
	// attempt; FailureReason says why the delivery failed.
	LastStatusCode int
	LastErrClass   string
	LastAttemptAt  time.Time
	FailureReason  string

	// Version counts the events folded in; the stream's last revision is
	// Version-1.
	Version   uint64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Exists reports whether the delivery was scheduled.
func (s DeliveryState) Exists() bool { return s.Status != "" }

// Final reports whether no attempt is due (succeeded or failed).
func (s DeliveryState) Final() bool {
	return s.Status == DeliveryStatusSucceeded || s.Status == DeliveryStatusFailed
}

// Due reports whether an attempt is owed at now: the delivery is pending
// or retrying and its next attempt is not in the future. The dispatcher
// checks it on the state it has just read, so a stale entry in its due
// index (another instance recorded the attempt, the index lags or was
// replayed) never makes an attempt early. A delivery not yet scheduled is
// not due: scheduling decides its first due time.
func (s DeliveryState) Due(now time.Time) bool {
	return s.Exists() && !s.Final() && !s.NextAttemptAt.After(now)
}

// ExpectedRevision is the optimistic-concurrency condition for appending the
// events decided on this state. Appending an attempt with it is also how a
// dispatcher claims the attempt: of two racing instances only one append
// succeeds.
func (s DeliveryState) ExpectedRevision() eventstore.ExpectedRevision {
	if s.Version == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(s.Version - 1)
}
