package domain

import "github.com/webhookd/webhookd/eventstore"

// RegisterEvents registers every domain event with the codec, so that
// stores and projections can decode the whole log. Call it once per codec:
// registering a type twice panics.
func RegisterEvents(c *eventstore.Codec) {
	RegisterWebhookEvents(c)
	RegisterAccountEvents(c)
	RegisterDeliveryEvents(c)
	RegisterLeaseEvents(c)
}

// RegisterWebhookEvents registers the events of the webhook aggregate.
func RegisterWebhookEvents(c *eventstore.Codec) {
	c.Register(
		WebhookCreated{}, WebhookUpdated{}, WebhookURLChanged{}, WebhookDeleted{},
		WebhookPaused{}, WebhookResumed{}, WebhookDisabled{}, WebhookEnabled{},
		WebhookVerificationFileIssued{}, WebhookVerified{}, WebhookVerificationFailed{},
		WebhookSecretRotated{}, WebhookFilterSet{}, WebhookDeliverySettingsChanged{},
	)
}

// RegisterAccountEvents registers the events of the account aggregate.
func RegisterAccountEvents(c *eventstore.Codec) {
	c.Register(AccountCreated{}, APIKeyCreated{}, APIKeyRevoked{},
		PortalSessionCreated{}, PortalSessionExchanged{}, PortalSessionRevoked{})
}

// fold folds a whole stream's events, in order, into a state with evolve.
// Each aggregate's Fold is this with its own evolve.
func fold[S any](evolve func(S, eventstore.Event) S, events []eventstore.Event) S {
	var s S
	for _, e := range events {
		s = evolve(s, e)
	}
	return s
}
