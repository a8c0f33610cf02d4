package domain

import "time"

// Webhook events, stored in the stream WebhookStream(id). Each carries the
// webhook ID so that projections reading the global log need not parse
// stream names, and At, the decision time.

// WebhookCreated starts a webhook's stream. The signing secret is part of
// the event because the dispatcher needs it to sign; protect the store as
// you would the secrets themselves.
type WebhookCreated struct {
	WebhookID        string            `json:"webhookId"`
	AccountID        string            `json:"accountId"`
	Name             string            `json:"name"`
	URL              string            `json:"url"`
	EventTypes       []string          `json:"eventTypes"`
	Description      string            `json:"description,omitempty"`
	Headers          map[string]string `json:"headers,omitempty"`
	RateLimit        RateLimit         `json:"rateLimit"`
	MaxConcurrency   int               `json:"maxConcurrency"`
	Secret           string            `json:"secret"`
	VerificationFile VerificationFile  `json:"verificationFile"`
	At               time.Time         `json:"at"`
}

// WebhookUpdated replaces the webhook's settings (all but the URL) with the
// values it carries: a full snapshot, so projections simply overwrite.
type WebhookUpdated struct {
	WebhookID      string            `json:"webhookId"`
	Name           string            `json:"name"`
	EventTypes     []string          `json:"eventTypes"`
	Description    string            `json:"description,omitempty"`
	Headers        map[string]string `json:"headers,omitempty"`
	RateLimit      RateLimit         `json:"rateLimit"`
	MaxConcurrency int               `json:"maxConcurrency"`
	At             time.Time         `json:"at"`
}

// WebhookURLChanged moves the webhook to a new callback URL. Ownership of
// the new URL is unproven, so it carries a fresh verification file and
// leaves the webhook unverified.
type WebhookURLChanged struct {
	WebhookID        string           `json:"webhookId"`
	URL              string           `json:"url"`
	VerificationFile VerificationFile `json:"verificationFile"`
	At               time.Time        `json:"at"`
}

// WebhookDeleted ends the webhook. Nothing follows it in the stream.
type WebhookDeleted struct {
	WebhookID string    `json:"webhookId"`
	At        time.Time `json:"at"`
}

// WebhookPaused stops deliveries at the account holder's request.
type WebhookPaused struct {
	WebhookID string    `json:"webhookId"`
	At        time.Time `json:"at"`
}

// WebhookResumed restarts deliveries of a paused webhook.
type WebhookResumed struct {
	WebhookID string    `json:"webhookId"`
	At        time.Time `json:"at"`
}

// WebhookDisabled stops deliveries because webhookd gave up on the endpoint.
// It carries the account so the operational webhook.disabled event can be
// routed without loading the webhook.
type WebhookDisabled struct {
	WebhookID string    `json:"webhookId"`
	AccountID string    `json:"accountId"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// WebhookEnabled restarts deliveries of a disabled webhook.
type WebhookEnabled struct {
	WebhookID string    `json:"webhookId"`
	At        time.Time `json:"at"`
}

// WebhookVerificationFileIssued replaces the verification file and makes the
// webhook unverified until the new file is found.
type WebhookVerificationFileIssued struct {
	WebhookID        string           `json:"webhookId"`
	VerificationFile VerificationFile `json:"verificationFile"`
	At               time.Time        `json:"at"`
}

// WebhookVerified records that the verification file was found at URL.
type WebhookVerified struct {
	WebhookID string    `json:"webhookId"`
	URL       string    `json:"url"`
	At        time.Time `json:"at"`
}

// WebhookVerificationFailed records a failed ownership check and why, in
// words fit for the account holder ("got 404 at https://...").
type WebhookVerificationFailed struct {
	WebhookID string    `json:"webhookId"`
	URL       string    `json:"url"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// WebhookSecretRotated makes Secret the signing secret. The one it replaces
// keeps signing until PreviousExpiresAt (equal to At when it is revoked at
// once).
type WebhookSecretRotated struct {
	WebhookID         string    `json:"webhookId"`
	Secret            string    `json:"secret"`
	PreviousExpiresAt time.Time `json:"previousExpiresAt"`
	At                time.Time `json:"at"`
}

// Stable stored names of the webhook events. Never change one; add a .v2
// and an upcaster instead.
func (WebhookCreated) EventType() string                { return "webhook.created.v1" }
func (WebhookUpdated) EventType() string                { return "webhook.updated.v1" }
func (WebhookURLChanged) EventType() string             { return "webhook.url_changed.v1" }
func (WebhookDeleted) EventType() string                { return "webhook.deleted.v1" }
func (WebhookPaused) EventType() string                 { return "webhook.paused.v1" }
func (WebhookResumed) EventType() string                { return "webhook.resumed.v1" }
func (WebhookDisabled) EventType() string               { return "webhook.disabled.v1" }
func (WebhookEnabled) EventType() string                { return "webhook.enabled.v1" }
func (WebhookVerificationFileIssued) EventType() string { return "webhook.verification_file_issued.v1" }
func (WebhookVerified) EventType() string               { return "webhook.verified.v1" }
func (WebhookVerificationFailed) EventType() string     { return "webhook.verification_failed.v1" }
func (WebhookSecretRotated) EventType() string          { return "webhook.secret_rotated.v1" }
