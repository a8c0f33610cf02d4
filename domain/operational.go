package domain

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Operational events are messages webhookd itself publishes to an account
// about its webhooks. They are catalogue types marked Operational, fanned
// out like any message to the account's webhooks that subscribe to them,
// except the webhook they are about (MessagePublished.AboutWebhookID): a
// failing webhook never hears of its own failure, so it cannot feed a loop.
const (
	OpWebhookDisabled           = "webhook.disabled"
	OpWebhookVerificationFailed = "webhook.verification_failed"
	OpWebhookRecovered          = "webhook.recovered"
	OpWebhookRateLimited        = "webhook.rate_limited"
	OpDeliveryFailed            = "delivery.failed"
)

// OperationalMessage is one operational event to publish. Key names what
// triggered it (the log event, or a webhook and a period), so publishing
// the same trigger again, after a replay or a crash, is the same message.
type OperationalMessage struct {
	Key       string
	AccountID string
	// WebhookID is the webhook the event is about; it never receives it.
	WebhookID string
	Type      string
	Data      any
}

// operationalNamespace derives operational message IDs from their keys.
var operationalNamespace = uuid.MustParse("0b7f3e2a-51c4-4d8e-9a61-7c2f4e8d9b13")

// MessageID is the message's ID, derived from its key alone, so every
// publish of one trigger lands on the same stream and the store's NoStream
// expectation lets only the first through, however late the repeat.
func (m OperationalMessage) MessageID() string {
	return uuid.NewSHA1(operationalNamespace, []byte(m.Type+"\x00"+m.Key)).String()
}

// Published is the message.published event of m, or an error when its data
// does not encode.
func (m OperationalMessage) Published(now time.Time) (MessagePublished, error) {
	data, err := json.Marshal(m.Data)
	if err != nil {
		return MessagePublished{}, err
	}
	return MessagePublished{
		MessageID: m.MessageID(), AccountID: m.AccountID, Type: m.Type, Data: data,
		PublishedAt: now, AboutWebhookID: m.WebhookID,
	}, nil
}

// OperationalWebhook is the webhook an operational event is about, as
// every operational event's data shows it under "webhook". ID is the
// GraphQL API's ID, so a receiver can query the webhook with it.
type OperationalWebhook struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// OperationalWebhookOf is s as operational events show it.
func OperationalWebhookOf(s WebhookState) OperationalWebhook {
	return OperationalWebhook{ID: EncodeGlobalID("Webhook", s.ID), Name: s.Name, URL: s.URL}
}

// WebhookDisabledData is the data of webhook.disabled.
type WebhookDisabledData struct {
	Webhook    OperationalWebhook `json:"webhook"`
	Reason     string             `json:"reason"`
	DisabledAt time.Time          `json:"disabledAt"`
}

// WebhookVerificationFailedData is the data of webhook.verification_failed.
type WebhookVerificationFailedData struct {
	Webhook   OperationalWebhook `json:"webhook"`
	Reason    string             `json:"reason"`
	CheckedAt time.Time          `json:"checkedAt"`
}

// WebhookRecoveredData is the data of webhook.recovered.
type WebhookRecoveredData struct {
	Webhook      OperationalWebhook `json:"webhook"`
	FailingSince time.Time          `json:"failingSince"`
	RecoveredAt  time.Time          `json:"recoveredAt"`
}

// WebhookRateLimitedData is the data of webhook.rate_limited.
type WebhookRateLimitedData struct {
	Webhook      OperationalWebhook `json:"webhook"`
	RateLimit    RateLimit          `json:"rateLimit"`
	LimitedSince time.Time          `json:"limitedSince"`
	At           time.Time          `json:"at"`
}

// DeliveryFailedData is the data of delivery.failed.
type DeliveryFailedData struct {
	Webhook  OperationalWebhook  `json:"webhook"`
	Delivery OperationalDelivery `json:"delivery"`
	Reason   string              `json:"reason"`
	FailedAt time.Time           `json:"failedAt"`
}

// OperationalDelivery is the delivery a delivery.failed event is about.
type OperationalDelivery struct {
	ID        string `json:"id"`
	MessageID string `json:"messageId"`
	EventType string `json:"eventType"`
	Attempts  int    `json:"attempts"`
}

// OperationalDeliveryOf is s as delivery.failed shows it.
func OperationalDeliveryOf(s DeliveryState) OperationalDelivery {
	return OperationalDelivery{ID: EncodeGlobalID("Delivery", s.ID), MessageID: s.MessageID, EventType: s.EventType, Attempts: s.Attempts}
}
