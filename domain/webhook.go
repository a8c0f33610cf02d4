package domain

import (
	"slices"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// WebhookStatus is where a webhook stands in its lifecycle. The zero value
// means the webhook was never created.
type WebhookStatus string

// Webhook statuses. Only an active webhook receives deliveries; paused is the
// account holder's choice, disabled is webhookd's (after the endpoint kept
// failing, or answered 410 Gone), deleted is final.
const (
	WebhookStatusActive   WebhookStatus = "active"
	WebhookStatusPaused   WebhookStatus = "paused"
	WebhookStatusDisabled WebhookStatus = "disabled"
	WebhookStatusDeleted  WebhookStatus = "deleted"
)

// VerificationStatus tells whether ownership of the callback URL is proven.
type VerificationStatus string

// Verification statuses. A webhook starts unverified, and becomes unverified
// again whenever its URL changes or a new verification file is issued.
const (
	VerificationUnverified VerificationStatus = "unverified"
	VerificationVerified   VerificationStatus = "verified"
	VerificationFailed     VerificationStatus = "failed"
)

// DefaultMaxConcurrency is the number of deliveries to one webhook that may
// be in flight at once unless the webhook says otherwise.
const DefaultMaxConcurrency = 4

// DefaultSecretOverlap is how long the previous secret keeps signing after a
// rotation, so receivers can switch over without dropping deliveries.
const DefaultSecretOverlap = 24 * time.Hour

// RateLimit caps deliveries to one webhook. The zero value means no rate
// limit (the concurrency cap still applies).
type RateLimit struct {
	PerSecond int `json:"perSecond"`
	Burst     int `json:"burst"`
}

// Unlimited reports whether the rate limit is off.
func (r RateLimit) Unlimited() bool { return r.PerSecond == 0 }

// Verification is the ownership-proof state of a webhook's callback URL.
type Verification struct {
	Status VerificationStatus
	// File is what the receiver must serve next to its callback URL.
	File VerificationFile
	// FailureReason is the human-readable reason of the last failed check,
	// such as "got 404 at https://example.com/hooks/webhookd-....txt".
	FailureReason string
	// At is when the status last changed.
	At time.Time
}

// WebhookState is the webhook aggregate, folded from its stream by
// EvolveWebhook. It is a value: evolving returns a new state and never
// alters slices or maps reachable from an older one.
type WebhookState struct {
	ID          string
	AccountID   string
	Name        string
	URL         string
	EventTypes  []string // sorted, no duplicates
	Description string
	Headers     map[string]string // custom request headers, as written
	RateLimit   RateLimit
	// MaxConcurrency is the cap on deliveries in flight at once.
	MaxConcurrency int
	// Filter is the payload filter (canonical JSON, see NormalizeFilter);
	// "" means every message of the subscribed types.
	Filter string `json:",omitempty"`
	// BodyFormat and Retry are the delivery settings (policy.go); zero
	// values are JSON bodies and the default retry schedule.
	BodyFormat BodyFormat
	Retry      RetrySettings
	// SendTraceparent makes attempts carry the W3C traceparent header of
	// their span, so receivers that trace can join the message's trace.
	SendTraceparent bool `json:",omitempty"`
	// Ordering is the ordered-delivery choice (ordering.go).
	Ordering Ordering `json:",omitzero"`
	// Batching is the choice of several events per POST (batching.go).
	Batching Batching `json:",omitzero"`

	Status         WebhookStatus
	DisabledReason string
	Verification   Verification

	// Secret signs every delivery. PreviousSecret also signs them until
	// PreviousSecretExpiresAt, the rotation overlap window.
	Secret                  string
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time

	// Version counts the events folded in; the stream's last revision is
	// Version-1.
	Version   uint64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Exists reports whether the webhook was created and not deleted. Commands
// on a webhook that does not exist fail with ENOTFOUND, so a deleted webhook
// looks the same to clients as one that never was.
func (s WebhookState) Exists() bool {
	return s.Status != "" && s.Status != WebhookStatusDeleted
}

// ExpectedRevision is the optimistic-concurrency condition for appending the
// events decided on this state.
func (s WebhookState) ExpectedRevision() eventstore.ExpectedRevision {
	if s.Version == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(s.Version - 1)
}

// SigningSecrets returns the secrets that sign a delivery sent at now: the
// current one, plus the previous one while its overlap window lasts (up to,
// not including, PreviousSecretExpiresAt).
func (s WebhookState) SigningSecrets(now time.Time) []string {
	if s.Secret == "" {
		return nil
	}
	if s.PreviousSecret != "" && now.Before(s.PreviousSecretExpiresAt) {
		return []string{s.Secret, s.PreviousSecret}
	}
	return []string{s.Secret}
}

// SubscribesTo reports whether the webhook wants events of the given type.
func (s WebhookState) SubscribesTo(eventType string) bool {
	_, found := slices.BinarySearch(s.EventTypes, eventType)
	return found
}

// ReceivesDeliveries reports whether deliveries are sent to the webhook
// now: it must be active and its URL verified.
func (s WebhookState) ReceivesDeliveries() bool {
	return s.Status == WebhookStatusActive && s.Verification.Status == VerificationVerified
}
