package domain

import "github.com/webhookd/webhookd/eventstore"

// EvolveWebhook applies one event of a webhook's stream to its state. Call
// it with every event of the stream, in order, starting from the zero
// WebhookState: events it does not know still count towards Version, so the
// expected revision stays right when newer event types are added.
func EvolveWebhook(s WebhookState, e eventstore.Event) WebhookState {
	s.Version++
	switch e := e.(type) {
	case WebhookCreated:
		s = WebhookState{
			ID:             e.WebhookID,
			AccountID:      e.AccountID,
			Name:           e.Name,
			URL:            e.URL,
			EventTypes:     e.EventTypes,
			Description:    e.Description,
			Headers:        e.Headers,
			RateLimit:      e.RateLimit,
			MaxConcurrency: e.MaxConcurrency,
			Status:         WebhookStatusActive,
			Verification:   Verification{Status: VerificationUnverified, File: e.VerificationFile, At: e.At},
			Secret:         e.Secret,
			Version:        s.Version,
			CreatedAt:      e.At,
			UpdatedAt:      e.At,
		}
	case WebhookUpdated:
		s.Name, s.EventTypes, s.Description = e.Name, e.EventTypes, e.Description
		s.Headers, s.RateLimit, s.MaxConcurrency = e.Headers, e.RateLimit, e.MaxConcurrency
		s.UpdatedAt = e.At
	case WebhookURLChanged:
		s.URL = e.URL
		s.Verification = Verification{Status: VerificationUnverified, File: e.VerificationFile, At: e.At}
		s.UpdatedAt = e.At
	case WebhookDeleted:
		s.Status, s.UpdatedAt = WebhookStatusDeleted, e.At
	case WebhookPaused:
		s.Status, s.UpdatedAt = WebhookStatusPaused, e.At
	case WebhookResumed:
		s.Status, s.UpdatedAt = WebhookStatusActive, e.At
	case WebhookDisabled:
		s.Status, s.DisabledReason, s.UpdatedAt = WebhookStatusDisabled, e.Reason, e.At
	case WebhookEnabled:
		s.Status, s.DisabledReason, s.UpdatedAt = WebhookStatusActive, "", e.At
	case WebhookVerificationFileIssued:
		s.Verification = Verification{Status: VerificationUnverified, File: e.VerificationFile, At: e.At}
		s.UpdatedAt = e.At
	case WebhookVerified:
		s.Verification = Verification{Status: VerificationVerified, File: s.Verification.File, At: e.At}
		s.UpdatedAt = e.At
	case WebhookVerificationFailed:
		s.Verification = Verification{Status: VerificationFailed, File: s.Verification.File, FailureReason: e.Reason, At: e.At}
		s.UpdatedAt = e.At
	case WebhookFilterSet:
		s.Filter, s.UpdatedAt = string(e.Filter), e.At
	case WebhookDeliverySettingsChanged:
		s = evolveDeliverySettings(s, e)
	case WebhookSecretRotated:
		s.PreviousSecret, s.PreviousSecretExpiresAt = s.Secret, e.PreviousExpiresAt
		s.Secret, s.UpdatedAt = e.Secret, e.At
	}
	return s
}

// FoldWebhook folds a whole stream's events, in order, into a state.
func FoldWebhook(events []eventstore.Event) WebhookState { return fold(EvolveWebhook, events) }
