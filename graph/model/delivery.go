package model

import "time"

// Delivery is written by hand so that its webhook is resolved only when a
// query asks for it: a page of deliveries usually does not.
type Delivery struct {
	ID        string `json:"id"`
	WebhookID string `json:"-"`
	AccountID string `json:"-"`
	// The message's ID: the webhook-id header and the body's id, the same on every attempt.
	MessageID       string         `json:"messageId"`
	MessageGlobalID string         `json:"messageGlobalId"`
	EventType       string         `json:"eventType"`
	Status          DeliveryStatus `json:"status"`
	Test            bool           `json:"test"`
	AttemptCount    int            `json:"attemptCount"`
	NextAttemptAt   *time.Time     `json:"nextAttemptAt,omitempty"`
	LastStatusCode  *int           `json:"lastStatusCode,omitempty"`
	FailureReason   *string        `json:"failureReason,omitempty"`
	CreatedAt       time.Time      `json:"createdAt"`
	UpdatedAt       time.Time      `json:"updatedAt"`
	// Attempts, on the server, holds what a read model of an earlier
	// version stored of the log (the attempts resolver reads the stream);
	// a client decodes the attempts field into it.
	Attempts []DeliveryAttempt `json:"attempts"`
	// Revision is the revision of the delivery's stream its summary has
	// folded: the attempts shown are the stream's up to it.
	Revision uint64 `json:"-"`
	// Change and ChangePosition are set on deliveryUpdated messages only:
	// what the reported event changed, and its log position.
	Change         *DeliveryChange `json:"change,omitempty"`
	ChangePosition *string         `json:"changePosition,omitempty"`
}

// IsNode marks Delivery as a Node.
func (Delivery) IsNode() {}

// GetID returns the global ID.
func (d Delivery) GetID() string { return d.ID }
