package projections

import (
	"bytes"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
)

// bucketSubscriptions indexes the webhooks that queue deliveries (see
// domain.WebhookState.QueuesDeliveries) by what they receive: account 0 eventType 0 webhookID -> nil. Fan-out looks up
// exactly the webhooks that match a message, so its cost depends on them,
// not on how many webhooks exist.
var bucketSubscriptions = []byte("subscriptions")

func subscriptionKey(account, eventType, webhookID string) []byte {
	k := make([]byte, 0, len(account)+len(eventType)+len(webhookID)+2)
	k = append(k, account...)
	k = append(k, 0)
	k = append(k, eventType...)
	k = append(k, 0)
	return append(k, webhookID...)
}

// updateSubscriptions moves a webhook's index entries from what before
// received to what after receives.
func updateSubscriptions(tx *bbolt.Tx, before, after domain.WebhookState) error {
	b := tx.Bucket(bucketSubscriptions)
	if before.QueuesDeliveries() {
		for _, t := range before.EventTypes {
			if err := b.Delete(subscriptionKey(before.AccountID, t, before.ID)); err != nil {
				return err
			}
		}
	}
	if after.QueuesDeliveries() {
		for _, t := range after.EventTypes {
			if err := b.Put(subscriptionKey(after.AccountID, t, after.ID), nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// subscribedWebhooks returns the IDs of the account's webhooks that queue
// eventType now.
func subscribedWebhooks(tx *bbolt.Tx, account, eventType string) []string {
	prefix := subscriptionKey(account, eventType, "")
	var ids []string
	c := tx.Bucket(bucketSubscriptions).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	return ids
}
