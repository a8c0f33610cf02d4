package domain

import "time"

// Delivery events, stored in the stream DeliveryStream(id). Each carries
// the delivery and webhook IDs so that projections reading the global log
// (the due-time index, deliveryUpdated subscriptions, per-webhook stats)
// need not load the aggregate.

// DeliveryScheduled starts a delivery: message MessageID is to be sent to
// webhook WebhookID, first at ScheduledAt.
type DeliveryScheduled struct {
	DeliveryID  string    `json:"deliveryId"`
	MessageID   string    `json:"messageId"`
	WebhookID   string    `json:"webhookId"`
	AccountID   string    `json:"accountId"`
	MessageType string    `json:"messageType"`
	Test        bool      `json:"test,omitempty"`
	ScheduledAt time.Time `json:"scheduledAt"`
	At          time.Time `json:"at"`
}

// DeliveryAttempted records one HTTP attempt, whatever its outcome. It is
// always followed, in the same append, by DeliverySucceeded,
// DeliveryRetryScheduled or DeliveryFailed.
type DeliveryAttempted struct {
	DeliveryID string    `json:"deliveryId"`
	WebhookID  string    `json:"webhookId"`
	Attempt    int       `json:"attempt"` // 1-based, over the delivery's life
	At         time.Time `json:"at"`
	StatusCode int       `json:"statusCode,omitempty"` // 0 when no response arrived
	LatencyMs  int64     `json:"latencyMs"`
	ErrorClass string    `json:"errorClass,omitempty"` // ErrClass* when no response arrived
	// ErrorMessage is at most MaxErrorMessage bytes.
	ErrorMessage string `json:"errorMessage,omitempty"`
	// ResponseExcerpt is the start of the response body, at most
	// MaxResponseExcerpt bytes of valid UTF-8.
	ResponseExcerpt string `json:"responseExcerpt,omitempty"`
	// RequestHeaders are the headers sent, with credential-looking values
	// redacted; the signature stays, as it proves nothing about the secret.
	RequestHeaders map[string]string `json:"requestHeaders,omitempty"`
	// BatchID and BatchSize are set when the attempt sent this delivery in
	// a batch (batching.go): the batch's webhook-id and how many events it
	// held. Every member's stream records the same attempt.
	BatchID   string `json:"batchId,omitempty"`
	BatchSize int    `json:"batchSize,omitempty"`
}

// DeliveryRetryScheduled says attempt Attempt is due at DueAt. SlowDown is
// set when the endpoint asked us to back off (429, 502, 503, 504).
type DeliveryRetryScheduled struct {
	DeliveryID string    `json:"deliveryId"`
	WebhookID  string    `json:"webhookId"`
	Attempt    int       `json:"attempt"`
	DueAt      time.Time `json:"dueAt"`
	SlowDown   bool      `json:"slowDown,omitempty"`
	// BatchID is the batch the failed attempt was part of, so the lane
	// retries its members together (batching.go); empty for a single
	// attempt.
	BatchID string    `json:"batchId,omitempty"`
	At      time.Time `json:"at"`
}

// DeliverySucceeded ends a delivery: attempt Attempt got a 2xx. Test
// marks a test send's, so readers of the log (operational events) need not
// read the delivery to leave it out; events stored before it lack it.
type DeliverySucceeded struct {
	DeliveryID string    `json:"deliveryId"`
	WebhookID  string    `json:"webhookId"`
	Attempt    int       `json:"attempt"`
	Test       bool      `json:"test,omitempty"`
	At         time.Time `json:"at"`
}

// DeliveryFailed ends a delivery without success. DisablesWebhook is set
// when the endpoint answered 410 Gone, so the dispatcher disables the
// webhook too.
type DeliveryFailed struct {
	DeliveryID      string `json:"deliveryId"`
	WebhookID       string `json:"webhookId"`
	Reason          string `json:"reason"`
	Attempts        int    `json:"attempts"`
	DisablesWebhook bool   `json:"disablesWebhook,omitempty"`
	// Test marks a test send's failure, as on DeliverySucceeded.
	Test bool      `json:"test,omitempty"`
	At   time.Time `json:"at"`
}

// DeliveryRedeliveryRequested reopens a finished delivery: it is pending
// again, due at DueAt, with a fresh retry schedule.
type DeliveryRedeliveryRequested struct {
	DeliveryID string `json:"deliveryId"`
	WebhookID  string `json:"webhookId"`
	// MessageID, AccountID, MessageType and Test repeat the delivery's own
	// facts so that the due index can file the attempt without reading the
	// delivery. Events stored before they were added lack them.
	MessageID   string    `json:"messageId,omitempty"`
	AccountID   string    `json:"accountId,omitempty"`
	MessageType string    `json:"messageType,omitempty"`
	Test        bool      `json:"test,omitempty"`
	DueAt       time.Time `json:"dueAt"`
	At          time.Time `json:"at"`
}

// Stable stored names of the delivery events. Never change one; add a .v2
// and an upcaster instead.
func (DeliveryScheduled) EventType() string           { return "delivery.scheduled.v1" }
func (DeliveryAttempted) EventType() string           { return "delivery.attempted.v1" }
func (DeliveryRetryScheduled) EventType() string      { return "delivery.retry_scheduled.v1" }
func (DeliverySucceeded) EventType() string           { return "delivery.succeeded.v1" }
func (DeliveryFailed) EventType() string              { return "delivery.failed.v1" }
func (DeliveryRedeliveryRequested) EventType() string { return "delivery.redelivery_requested.v1" }
