package domain

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// MessageStreamCategory is the category of message streams.
const MessageStreamCategory = "message"

// MessageStream names the event stream of one published message.
func MessageStream(id string) string { return MessageStreamCategory + "-" + id }

// MessageIDFromStream returns the message ID of a message stream name, and
// false for any other stream.
func MessageIDFromStream(stream string) (string, bool) {
	return idFromStream(stream, MessageStreamCategory)
}

// MessagePublished records an event the platform published for an account.
// It is the message's only event; its ID is the webhook-id every delivery
// of it carries, which is what lets receivers deduplicate.
type MessagePublished struct {
	MessageID string          `json:"messageId"`
	AccountID string          `json:"accountId"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	// IdempotencyKey, when the publisher gave one, makes republishing the
	// same key a no-op rather than a second message.
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	PublishedAt    time.Time `json:"publishedAt"`
	// TestWebhookID marks a message sent by the testing tool: it goes to
	// that one webhook only, verified or not, and is never fanned out.
	TestWebhookID string `json:"testWebhookId,omitempty"`
	// Traceparent is the W3C trace context of the publish span, so each
	// attempt's span joins the message's trace however much later it is
	// made. Empty when tracing was off; messages from before it have none.
	Traceparent string `json:"traceparent,omitempty"`
	// AboutWebhookID is set on operational events (domain/operational.go):
	// the webhook the event is about, which fan-out never delivers it to.
	AboutWebhookID string `json:"aboutWebhookId,omitempty"`
}

// EventType is the stable stored name of MessagePublished.
func (MessagePublished) EventType() string { return "message.published.v1" }

// DeliveryIDFor derives the delivery ID of message messageID to webhook
// webhookID. Being deterministic makes fan-out idempotent: a fan-out
// replayed after a crash re-proposes the same delivery streams, and the
// append's NoStream expectation rejects the duplicates. When the message ID
// is a UUIDv7 (every message published without an idempotency key), the
// delivery ID starts with its millisecond timestamp, so deliveries sort by
// time and land at the end of the stores' B+trees instead of on random
// pages.
func DeliveryIDFor(messageID, webhookID string) string {
	sum := sha256.Sum256([]byte(messageID + "\x00" + webhookID))
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding)
	if u, err := uuid.Parse(messageID); err == nil && u.Version() == 7 {
		return "dlv_" + hex.EncodeToString(u[:6]) + strings.ToLower(b32.EncodeToString(sum[:10]))
	}
	return "dlv_" + strings.ToLower(b32.EncodeToString(sum[:16]))
}

// RegisterDeliveryEvents registers the message and delivery events with a
// codec, under their stable type names.
func RegisterDeliveryEvents(c *eventstore.Codec) {
	c.Register(
		MessagePublished{},
		DeliveryScheduled{},
		DeliveryAttempted{},
		DeliveryRetryScheduled{},
		DeliverySucceeded{},
		DeliveryFailed{},
		DeliveryRedeliveryRequested{},
		DeliveryAttemptRecorded{},
	)
}

// DeliveryPayload is the JSON body every delivery carries. id is the
// message ID, the same as the webhook-id header, so receivers can
// deduplicate. Test is true on test sends (the testing tool, Check now),
// which also carry the header "webhook-test: true", so receivers can tell
// them from real events; real events leave it out.
type DeliveryPayload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Account   string          `json:"account"`
	Data      json.RawMessage `json:"data"`
	Test      bool            `json:"test,omitempty"`
}

// TestHeader is the request header that marks a test send; its value is
// "true". Real deliveries do not carry it.
const TestHeader = "webhook-test"
