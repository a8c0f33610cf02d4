package readmodels

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections/accounts"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/fanout"
	"github.com/webhookd/webhookd/projections/history"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// Bolt is app.ReadModel over the bbolt file the projections in All write:
// the one place the application layer's queries meet the storage. A
// delivery's attempt log is read from its stream in Log (decoded by
// Codec); without Log, deliveries carry only the attempt rows earlier
// versions stored.
type Bolt struct {
	DB    *bbolt.DB
	Log   eventstore.Store
	Codec *eventstore.Codec
}

var _ app.ReadModel = Bolt{}

// APIKey implements app.ReadModel.
func (b Bolt) APIKey(keyID string) (domain.APIKey, bool, error) {
	return accounts.GetAPIKey(b.DB, keyID)
}

// PortalSession implements app.ReadModel.
func (b Bolt) PortalSession(id string) (domain.PortalSession, bool, error) {
	return accounts.GetPortalSession(b.DB, id)
}

// Account implements app.ReadModel.
func (b Bolt) Account(id string) (domain.AccountState, bool, error) {
	return accounts.GetAccount(b.DB, id)
}

// Webhook implements app.ReadModel.
func (b Bolt) Webhook(account, id string) (app.WebhookView, bool, error) {
	return webhooks.GetWebhook(b.DB, account, id)
}

// WebhookAnyAccount implements app.ReadModel.
func (b Bolt) WebhookAnyAccount(id string) (app.WebhookView, bool, error) {
	return webhooks.GetWebhookAnyAccount(b.DB, id)
}

// Subscribed implements app.ReadModel.
func (b Bolt) Subscribed(account, eventType, except string) (bool, error) {
	var ok bool
	err := b.DB.View(func(tx *bbolt.Tx) error {
		ok = fanout.Subscribed(tx, account, eventType, except)
		return nil
	})
	return ok, err
}

// Webhooks implements app.ReadModel.
func (b Bolt) Webhooks(account string, f app.WebhookFilter, first int, after string) (app.WebhookPage, error) {
	return webhooks.ListWebhooks(b.DB, account, f, first, after)
}

// OrderedLines implements app.ReadModel.
func (b Bolt) OrderedLines(webhookID string, perWebhook bool) ([]app.OrderedLine, error) {
	return due.DueLines(b.DB, webhookID, perWebhook, true, 0)
}

// Delivery implements app.ReadModel.
func (b Bolt) Delivery(account, id string) (app.DeliveryView, bool, error) {
	return deliveries.GetDelivery(b.DB, account, id)
}

// Deliveries implements app.ReadModel.
func (b Bolt) Deliveries(account, webhookID string, f app.DeliveryFilter, first int, after string) (app.DeliveryPage, error) {
	return deliveries.ListDeliveries(b.DB, account, webhookID, f, first, after)
}

// AttemptLog implements app.ReadModel: the log from the delivery's stream
// when Log holds it, else what the read model stored.
func (b Bolt) AttemptLog(v app.DeliveryView) ([]app.AttemptView, error) {
	if b.Log != nil {
		if err := deliveries.ReadAttemptLog(context.Background(), b.Log, b.Codec, &v); err != nil {
			return nil, err
		}
	}
	return v.Attempts, nil
}

// EachDelivery implements app.ReadModel.
func (b Bolt) EachDelivery(account, webhookID string, r app.DeliveryRange, fn func(app.DeliveryView) error) error {
	return deliveries.EachDelivery(b.DB, account, webhookID, r, fn)
}

// Stats implements app.ReadModel.
func (b Bolt) Stats(account, webhookID string, from, to time.Time) (app.StatsView, error) {
	return deliveries.Stats(b.DB, account, webhookID, from, to)
}

// History implements app.ReadModel.
func (b Bolt) History(stream string, first int, after string) (app.HistoryPage, error) {
	return history.ReadHistory(b.DB, stream, first, after)
}
