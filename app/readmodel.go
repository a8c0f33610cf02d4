package app

import (
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/history"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// ReadModel is the read side the application layer queries. Adapters never
// reach it: they call App, which checks tenancy once, here, before any read
// leaves the package. Methods that take an account answer only that
// account's objects, as if others did not exist. readmodels.Bolt, over the
// bbolt read-model file the projections write, is the one implementation;
// another backend implements this interface.
type ReadModel interface {
	APIKey(keyID string) (domain.APIKey, bool, error)
	// PortalSession is a portal session by ID, for cookie authentication.
	PortalSession(id string) (domain.PortalSession, bool, error)
	Account(id string) (domain.AccountState, bool, error)
	Webhook(account, id string) (WebhookView, bool, error)
	WebhookLookup
	Webhooks(account string, f WebhookFilter, first int, after string) (WebhookPage, error)
	// Subscribed reports whether a webhook of the account other than
	// except receives messages of eventType (verified and subscribed).
	Subscribed(account, eventType, except string) (bool, error)
	// Delivery and Deliveries return deliveries' summaries: their
	// Attempts hold only what earlier versions stored; AttemptLog reads
	// the log.
	Delivery(account, id string) (DeliveryView, bool, error)
	Deliveries(account, webhookID string, f DeliveryFilter, first int, after string) (DeliveryPage, error)
	// AttemptLog is the delivery's attempt log (at most its newest 200
	// attempts, oldest first), read from its stream up to the revision
	// its summary has folded.
	AttemptLog(v DeliveryView) ([]AttemptView, error)
	// EachDelivery walks the webhook's deliveries r selects, in short read
	// transactions: their summaries, without reading the attempt logs (an
	// export of millions of deliveries reads no stream).
	EachDelivery(account, webhookID string, r DeliveryRange, fn func(DeliveryView) error) error
	Stats(account, webhookID string, from, to time.Time) (StatsView, error)
	History(stream string, first int, after string) (HistoryPage, error)
	// OrderedLines is the heads of the webhook's lines, with how many
	// deliveries each holds; perWebhook folds them into one line.
	OrderedLines(webhookID string, perWebhook bool) ([]OrderedLine, error)
}

// WebhookLookup finds a webhook whatever its account. It is for the
// dispatcher, which delivers for every account, and never answers a caller
// directly. ReadModel is one.
type WebhookLookup interface {
	WebhookAnyAccount(id string) (WebhookView, bool, error)
}

// ChangeFeed delivers committed read-model changes of one account (and one
// object, when id is set) until cancel is called or the subscriber falls
// behind. live.Broker is one.
type ChangeFeed interface {
	Subscribe(topic, account, id string) (<-chan Change, func())
}

// The read side's types, named here so adapters depend on app alone; the
// read-model packages define them.
type (
	// Change names an object a committed event changed.
	Change = projections.Change
	// ChangeWhat says what a change changed about its object.
	ChangeWhat = projections.ChangeWhat
	// WebhookView is a webhook as the read model holds it.
	WebhookView = webhooks.WebhookView
	// WebhookFilter narrows a webhook listing.
	WebhookFilter = webhooks.WebhookFilter
	// WebhookPage is one page of a webhook listing.
	WebhookPage = webhooks.WebhookPage
	// DeliveryView is a delivery with its attempts.
	DeliveryView = deliveries.DeliveryView
	// AttemptView is one recorded attempt of a delivery.
	AttemptView = deliveries.AttemptView
	// DeliveryFilter narrows a delivery listing.
	DeliveryFilter = deliveries.DeliveryFilter
	// DeliveryRange selects the deliveries an export walks.
	DeliveryRange = deliveries.DeliveryRange
	// DeliveryPage is one page of a delivery listing.
	DeliveryPage = deliveries.DeliveryPage
	// StatsView summarises a webhook's attempts over a window.
	StatsView = deliveries.StatsView
	// MinutePoint is one step of a stats series.
	MinutePoint = deliveries.MinutePoint
	// OrderedLine is one line of an ordered webhook and its head.
	OrderedLine = due.Line
	// HistoryEntry is one event of a subject's history.
	HistoryEntry = history.HistoryEntry
	// HistoryPage is one page of a subject's history.
	HistoryPage = history.HistoryPage
)

// Change topics subscribers choose from, and what a delivery change says.
const (
	TopicWebhook            = webhooks.TopicWebhook
	TopicWebhookDeliveries  = deliveries.TopicWebhookDeliveries
	DeliveryListed          = deliveries.DeliveryListed
	DeliveryAttemptRecorded = deliveries.DeliveryAttemptRecorded
	DeliveryStatusChanged   = deliveries.DeliveryStatusChanged
	DeliveryRescheduled     = deliveries.DeliveryRescheduled
)
