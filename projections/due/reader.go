package due

import (
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Reader is the due index as the dispatcher reads it. The dispatcher is a
// projector with side effects and reads the index its own projection
// writes, so the interface lives beside the index rather than in app; it
// keeps the dispatcher off bbolt, so another read-model backend can feed
// it. Index is the bbolt one.
type Reader interface {
	// Webhooks lists every webhook that has owed attempts (DueWebhooks).
	Webhooks() ([]string, error)
	// For returns a webhook's entries due by now, oldest first (DueFor),
	// leaving out those skip reports; skip must not keep the ID it is
	// given beyond the call.
	For(webhookID string, now time.Time, limit int, skip func(deliveryID string) bool) ([]DueEntry, time.Time, error)
	// Lines returns the heads of an ordered webhook's lines (DueLines).
	Lines(webhookID string, perWebhook, counting bool, limit int) ([]Line, error)
	// Health is since when a webhook's deliveries have all been failing.
	Health(webhookID string) (Health, error)
	// Counts is every webhook's owed attempts (DueCounts).
	Counts() (map[string]DueCount, error)
}

// Index is the Reader over the bbolt read-model file.
type Index struct{ DB *bbolt.DB }

var _ Reader = Index{}

// Webhooks implements Reader.
func (i Index) Webhooks() ([]string, error) { return DueWebhooks(i.DB) }

// For implements Reader.
func (i Index) For(webhookID string, now time.Time, limit int, skip func(string) bool) ([]DueEntry, time.Time, error) {
	return DueFor(i.DB, webhookID, now, limit, skip)
}

// Lines implements Reader.
func (i Index) Lines(webhookID string, perWebhook, counting bool, limit int) ([]Line, error) {
	return DueLines(i.DB, webhookID, perWebhook, counting, limit)
}

// Health implements Reader.
func (i Index) Health(webhookID string) (Health, error) { return WebhookHealth(i.DB, webhookID) }

// Counts implements Reader.
func (i Index) Counts() (map[string]DueCount, error) { return DueCounts(i.DB) }
