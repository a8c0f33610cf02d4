package due

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/fanout"
)

// queueFirstAttempts owes a first attempt of m to every webhook it fans
// out to.
func queueFirstAttempts(tx *bbolt.Tx, m domain.MessagePublished) ([]projections.Change, error) {
	var changes []projections.Change
	for _, id := range fanout.Targets(tx, m) {
		c, err := putDue(tx, DueEntry{DeliveryID: domain.DeliveryIDFor(m.MessageID, id), MessageID: m.MessageID,
			WebhookID: id, AccountID: m.AccountID, EventType: m.Type, DueAt: m.PublishedAt})
		if err != nil {
			return nil, err
		}
		changes = append(changes, c...)
	}
	return changes, nil
}
