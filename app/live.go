package app

import (
	"context"
	"errors"

	"github.com/webhookd/webhookd/domain"
)

// errNoFeed is a fault: the App was assembled without a change feed.
var errNoFeed = errors.New("live changes are not available: no change feed")

// Subscribe opens a live feed of topic's changes for the principal's
// account, narrowed to one of its webhooks when webhookID is set. Another
// account's webhook is not found; the feed never carries other accounts'
// changes. cancel ends it; the feed also ends when the subscriber falls
// behind.
func (a *App) Subscribe(ctx context.Context, p Principal, topic, webhookID string) (<-chan Change, func(), error) {
	if webhookID != "" {
		if _, err := a.Webhook(ctx, p, webhookID); err != nil {
			return nil, nil, err
		}
	}
	if a.Feed == nil {
		return nil, nil, errNoFeed
	}
	changes, cancel := a.Feed.Subscribe(topic, p.AccountID, webhookID)
	return changes, cancel, nil
}

// ChangedWebhook loads the webhook a live change names, for a subscriber of
// the principal's account. A webhook deleted since comes back with status
// deleted and what is left of it, so the subscriber learns of the deletion.
func (a *App) ChangedWebhook(ctx context.Context, p Principal, id string) (WebhookView, error) {
	view, ok, err := a.Read.Webhook(p.AccountID, id)
	if err != nil {
		return view, err
	}
	if !ok {
		view.ID, view.AccountID, view.Status = id, p.AccountID, domain.WebhookStatusDeleted
	}
	return view, nil
}
