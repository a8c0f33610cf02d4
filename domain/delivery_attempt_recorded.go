package domain

import (
	"strconv"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// DeliveryAttemptRecorded records one HTTP attempt and what follows it in
// a single event: the outcome (succeeded, a retry due at NextAttemptAt, or
// failed) and, when the attempt opens the delivery's stream (a first
// attempt), the scheduling facts. It replaces the pair DeliveryAttempted
// plus outcome (and the DeliveryScheduled before a first attempt) that
// earlier versions appended, so a delivery that succeeds at once costs one
// event in the log instead of three. Streams written before keep folding:
// Parts splits this event into exactly the events an earlier version
// would have appended, so every reader handles both with one code path.
type DeliveryAttemptRecorded struct {
	DeliveryID string `json:"deliveryId"`
	WebhookID  string `json:"webhookId"`
	// MessageID, AccountID, MessageType and ScheduledAt are set only when
	// this event opens the stream; they are DeliveryScheduled's facts.
	MessageID   string    `json:"messageId,omitempty"`
	AccountID   string    `json:"accountId,omitempty"`
	MessageType string    `json:"messageType,omitempty"`
	ScheduledAt time.Time `json:"scheduledAt,omitzero"`
	Test        bool      `json:"test,omitempty"`

	Attempt      int       `json:"attempt"` // 1-based, over the delivery's life
	At           time.Time `json:"at"`
	StatusCode   int       `json:"statusCode,omitempty"`
	LatencyMs    int64     `json:"latencyMs"`
	ErrorClass   string    `json:"errorClass,omitempty"`
	ErrorMessage string    `json:"errorMessage,omitempty"`
	// ResponseExcerpt is as on DeliveryAttempted.
	ResponseExcerpt string `json:"responseExcerpt,omitempty"`
	// RequestHeaders are the headers sent, redacted as on
	// DeliveryAttempted, without those the event itself determines
	// (DerivedRequestHeaders adds them back for readers).
	RequestHeaders map[string]string `json:"requestHeaders,omitempty"`
	BatchID        string            `json:"batchId,omitempty"`
	BatchSize      int               `json:"batchSize,omitempty"`

	// Result is what the attempt decided: ResultSucceeded, ResultRetry or
	// ResultFailed (a 410 is ResultFailed with DisablesWebhook).
	Result RetryResult `json:"result"`
	// NextAttemptAt and SlowDown are set for ResultRetry, as on
	// DeliveryRetryScheduled.
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
	SlowDown      bool      `json:"slowDown,omitempty"`
	// Reason and DisablesWebhook are set for ResultFailed, as on
	// DeliveryFailed.
	Reason          string `json:"reason,omitempty"`
	DisablesWebhook bool   `json:"disablesWebhook,omitempty"`
}

// EventType is the stable stored name. Never change it.
func (DeliveryAttemptRecorded) EventType() string { return "delivery.attempt_recorded.v1" }

// OpensStream reports whether the event is its delivery's first, carrying
// the scheduling facts.
func (e DeliveryAttemptRecorded) OpensStream() bool { return e.MessageID != "" }

// Parts returns the events an earlier version appended for this attempt:
// DeliveryScheduled when the event opens the stream, DeliveryAttempted,
// then DeliverySucceeded, DeliveryRetryScheduled or DeliveryFailed.
func (e DeliveryAttemptRecorded) Parts() []eventstore.Event {
	parts := make([]eventstore.Event, 0, 3)
	if e.OpensStream() {
		parts = append(parts, e.Scheduled())
	}
	parts = append(parts, e.Attempted(), e.Outcome())
	return parts
}

// Scheduled is the scheduling part of an event that opens its stream.
func (e DeliveryAttemptRecorded) Scheduled() DeliveryScheduled {
	return DeliveryScheduled{
		DeliveryID: e.DeliveryID, MessageID: e.MessageID, WebhookID: e.WebhookID, AccountID: e.AccountID,
		MessageType: e.MessageType, Test: e.Test, ScheduledAt: e.ScheduledAt, At: e.At,
	}
}

// Attempted is the attempt part, with the derived request headers back.
func (e DeliveryAttemptRecorded) Attempted() DeliveryAttempted {
	return DeliveryAttempted{
		DeliveryID: e.DeliveryID, WebhookID: e.WebhookID, Attempt: e.Attempt, At: e.At,
		StatusCode: e.StatusCode, LatencyMs: e.LatencyMs, ErrorClass: e.ErrorClass,
		ErrorMessage: e.ErrorMessage, ResponseExcerpt: e.ResponseExcerpt,
		RequestHeaders: e.RequestHeaders, BatchID: e.BatchID, BatchSize: e.BatchSize,
	}
}

// Outcome is the part that follows the attempt.
func (e DeliveryAttemptRecorded) Outcome() eventstore.Event {
	switch e.Result {
	case ResultSucceeded:
		return DeliverySucceeded{DeliveryID: e.DeliveryID, WebhookID: e.WebhookID, Attempt: e.Attempt, Test: e.Test, At: e.At}
	case ResultRetry:
		return DeliveryRetryScheduled{DeliveryID: e.DeliveryID, WebhookID: e.WebhookID, Attempt: e.Attempt + 1,
			DueAt: e.NextAttemptAt, SlowDown: e.SlowDown, BatchID: e.BatchID, At: e.At}
	default:
		return DeliveryFailed{DeliveryID: e.DeliveryID, WebhookID: e.WebhookID, Reason: e.Reason, Attempts: e.Attempt,
			DisablesWebhook: e.DisablesWebhook, Test: e.Test, At: e.At}
	}
}

// Final reports whether the attempt ended the delivery.
func (e DeliveryAttemptRecorded) Final() bool { return e.Result != ResultRetry }

// DeliveryEventParts returns the events e stands for in the shape earlier
// versions appended: a DeliveryAttemptRecorded's Parts, any other event
// alone. Readers that react to scheduling, attempts and outcomes loop over
// it and so handle old and new streams alike.
func DeliveryEventParts(e eventstore.Event) []eventstore.Event {
	if r, ok := e.(DeliveryAttemptRecorded); ok {
		return r.Parts()
	}
	return []eventstore.Event{e}
}

// storedRequestHeaders is what the log keeps of the headers an attempt
// sent: a copy of h with credential-looking values redacted
// (credentialHeader) and without each header whose value
// DerivedRequestHeaders would give back exactly, since the attempt's facts
// determine it. One pass, one map: it runs for every attempt.
func storedRequestHeaders(h map[string]string, messageID string, a DeliveryAttempted, test bool) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if credentialHeader(k) {
			out[k] = "[redacted]"
			continue
		}
		if derived, ok := derivedHeader(k, messageID, a, test); ok && derived == v {
			continue
		}
		out[k] = v
	}
	return out
}

// DerivedRequestHeaders adds back to stored (the headers an attempt's
// event kept) the ones it left out because the attempt's facts determine
// them: the webhook-id is the batch's ID or else the message's, the
// timestamp is the attempt's time, and the batch size and test flag are
// the attempt's. A stored header wins, so attempts recorded with every
// header read the same; an attempt that sent no request (stored is empty)
// gets none.
func DerivedRequestHeaders(stored map[string]string, messageID string, a DeliveryAttempted, test bool) map[string]string {
	if len(stored) == 0 {
		return stored
	}
	out := derivedHeaders(messageID, a, test)
	for k, v := range stored {
		out[k] = v
	}
	return out
}

// derivedHeaderNames are the request headers an attempt's facts may
// determine, under their canonical names (as the sender records them).
var derivedHeaderNames = [...]string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Batch-Size", "Webhook-Test"}

// derivedHeaders are the values of the request headers an attempt's facts
// determine.
func derivedHeaders(messageID string, a DeliveryAttempted, test bool) map[string]string {
	out := make(map[string]string, len(derivedHeaderNames))
	for _, name := range derivedHeaderNames {
		if v, ok := derivedHeader(name, messageID, a, test); ok {
			out[name] = v
		}
	}
	return out
}

// derivedHeader is the value the attempt's facts give the named header,
// and false when they give it none.
func derivedHeader(name, messageID string, a DeliveryAttempted, test bool) (string, bool) {
	switch name {
	case "Webhook-Id":
		if a.BatchID != "" {
			return a.BatchID, true
		}
		return messageID, messageID != ""
	case "Webhook-Timestamp":
		return strconv.FormatInt(a.At.Unix(), 10), true
	case "Webhook-Batch-Size":
		return strconv.Itoa(a.BatchSize), a.BatchID != ""
	case "Webhook-Test":
		return "true", test
	}
	return "", false
}
