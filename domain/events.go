package domain

import "github.com/webhookd/webhookd/eventstore"

// RegisterEvents registers every domain event with the codec, so that
// stores and projections can decode the whole log. Call it once per codec:
// registering a type twice panics.
func RegisterEvents(c *eventstore.Codec) {
	RegisterWebhookEvents(c)
	RegisterAccountEvents(c)
	RegisterDeliveryEvents(c)
}

// RegisterWebhookEvents registers the events of the webhook aggregate.
func RegisterWebhookEvents(c *eventstore.Codec) {
	c.Register(
		WebhookCreated{}, WebhookUpdated{}, WebhookURLChanged{}, WebhookDeleted{},
		WebhookPaused{}, WebhookResumed{}, WebhookDisabled{}, WebhookEnabled{},
		WebhookVerificationFileIssued{}, WebhookVerified{}, WebhookVerificationFailed{},
		WebhookSecretRotated{},
	)
}

// RegisterAccountEvents registers the events of the account aggregate.
func RegisterAccountEvents(c *eventstore.Codec) {
	c.Register(AccountCreated{}, APIKeyCreated{}, APIKeyRevoked{})
}
