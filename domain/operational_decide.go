package domain

import "time"

// The operational reactor's decisions: which facts of the log become which
// operational event. They are pure; the reactor loads the webhook and
// delivery states they need from their streams.

// HealthWatch is what the reactor folds from the log to tell a recovery:
// the webhooks whose last real (not test) attempt failed, and since when
// they have been failing.
type HealthWatch struct {
	FailingSince map[string]time.Time `json:"failingSince"`
}

// Failing reports whether webhook id is failing, and since when.
func (h HealthWatch) Failing(id string) (time.Time, bool) {
	t, ok := h.FailingSince[id]
	return t, ok
}

// Failed records a failed real attempt of webhook id at at, and reports
// whether that changed the watch (the first failure of a streak).
func (h *HealthWatch) Failed(id string, at time.Time) bool {
	if _, ok := h.FailingSince[id]; ok {
		return false
	}
	if h.FailingSince == nil {
		h.FailingSince = map[string]time.Time{}
	}
	h.FailingSince[id] = at
	return true
}

// Succeeded records a succeeded real attempt of webhook id. It reports
// whether that is a recovery (the first success after one or more failed
// attempts), and since when the webhook had been failing.
func (h *HealthWatch) Succeeded(id string) (failingSince time.Time, recovered bool) {
	since, ok := h.FailingSince[id]
	if ok {
		delete(h.FailingSince, id)
	}
	return since, ok
}

// Forget drops a deleted webhook.
func (h *HealthWatch) Forget(id string) bool {
	_, ok := h.FailingSince[id]
	delete(h.FailingSince, id)
	return ok
}

// DisabledMessage is the webhook.disabled event for e; key names e.
func DisabledMessage(w WebhookState, e WebhookDisabled, key string) OperationalMessage {
	return OperationalMessage{Key: key, AccountID: w.AccountID, WebhookID: w.ID, Type: OpWebhookDisabled,
		Data: WebhookDisabledData{Webhook: OperationalWebhookOf(w), Reason: e.Reason, DisabledAt: e.At}}
}

// VerificationFailedMessage is the webhook.verification_failed event for e.
func VerificationFailedMessage(w WebhookState, e WebhookVerificationFailed, key string) OperationalMessage {
	return OperationalMessage{Key: key, AccountID: w.AccountID, WebhookID: w.ID, Type: OpWebhookVerificationFailed,
		Data: WebhookVerificationFailedData{Webhook: OperationalWebhookOf(w), Reason: e.Reason, CheckedAt: e.At}}
}

// RecoveredMessage is the webhook.recovered event of a webhook whose
// attempt succeeded at at after failing since since.
func RecoveredMessage(w WebhookState, since, at time.Time, key string) OperationalMessage {
	return OperationalMessage{Key: key, AccountID: w.AccountID, WebhookID: w.ID, Type: OpWebhookRecovered,
		Data: WebhookRecoveredData{Webhook: OperationalWebhookOf(w), FailingSince: since, RecoveredAt: at}}
}

// DeliveryFailedMessage is the delivery.failed event for e, a delivery
// that ended failed, and false when there is to be none: a test send
// (reported to the person who made it), or the delivery of an operational
// event (operational says which types are), so that one failing
// operational receiver cannot set off a chain of them.
func DeliveryFailedMessage(w WebhookState, d DeliveryState, e DeliveryFailed, key string, operational func(eventType string) bool) (OperationalMessage, bool) {
	if d.Test || operational(d.EventType) {
		return OperationalMessage{}, false
	}
	return OperationalMessage{Key: key, AccountID: w.AccountID, WebhookID: w.ID, Type: OpDeliveryFailed,
		Data: DeliveryFailedData{Webhook: OperationalWebhookOf(w), Delivery: OperationalDeliveryOf(d), Reason: e.Reason, FailedAt: e.At}}, true
}

// RateLimitedMessage is the webhook.rate_limited event of a webhook
// limited since since, reported at at; key names the webhook and period.
func RateLimitedMessage(w WebhookState, since, at time.Time, key string) OperationalMessage {
	return OperationalMessage{Key: key, AccountID: w.AccountID, WebhookID: w.ID, Type: OpWebhookRateLimited,
		Data: WebhookRateLimitedData{Webhook: OperationalWebhookOf(w), RateLimit: w.RateLimit, LimitedSince: since, At: at}}
}
