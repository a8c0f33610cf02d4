package due

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/fanout"
)

// queueFirstAttempts owes a first attempt of m to every webhook it fans
// out to, filed in its line at seq, the message's log position.
func queueFirstAttempts(tx *bbolt.Tx, t *batchState, m domain.MessagePublished, seq uint64) ([]projections.Change, error) {
	var changes []projections.Change
	for _, d := range fanout.Deliveries(tx, m) {
		e := DueEntry{DeliveryID: d.DeliveryID, MessageID: m.MessageID,
			WebhookID: d.WebhookID, AccountID: m.AccountID, EventType: m.Type, Seq: seq, Line: lineOf(tx, t, d.WebhookID, m), DueAt: m.PublishedAt}
		if t != nil && !ordered(tx, t, d.WebhookID) {
			// Written with the rest of the run of messages (firsts.go); an
			// ordered webhook's entry is put at once, with its order key.
			if err := fileFirst(tx, t, e); err != nil {
				return nil, err
			}
			changes = append(changes, projections.Change{Topic: TopicDue, Account: e.AccountID, ID: e.WebhookID})
			continue
		}
		c, err := putDue(tx, t, e)
		if err != nil {
			return nil, err
		}
		changes = append(changes, c...)
	}
	return changes, nil
}
