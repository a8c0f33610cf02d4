// Package fanout is where a published message becomes deliveries: it
// keeps the subscriptions index and answers which webhooks a message is
// delivered to.
//
// When the runner applies message.published, the due index owes a first
// attempt (due.Due) and the deliveries listing shows a pending delivery
// (deliveries.Deliveries) for each webhook Targets returns. Both read the
// subscriptions index in the same transaction, so the match is exactly the
// webhooks' state at the message's place in the log. The rule itself is
// the domain's (domain/fanout.go); this package only indexes webhooks by
// it. The webhooks projection keeps the index up to date
// (UpdateSubscriptions) and owns its bucket.
package fanout

import (
	"bytes"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
)

// Bucket indexes webhooks by the messages they queue
// (domain.WebhookState.FanOutTypes): account 0 eventType 0 webhookID ->
// the webhook's payload filter source, empty for none (filter.go). Fan-out looks up exactly the webhooks that match a message, so its
// cost depends on them, not on how many webhooks exist.
var Bucket = []byte("subscriptions")

func subscriptionKey(account, eventType, webhookID string) []byte {
	k := make([]byte, 0, len(account)+len(eventType)+len(webhookID)+2)
	k = append(k, account...)
	k = append(k, 0)
	k = append(k, eventType...)
	k = append(k, 0)
	return append(k, webhookID...)
}

// UpdateSubscriptions moves a webhook's index entries from what before
// queued to what after queues.
func UpdateSubscriptions(tx *bbolt.Tx, before, after domain.WebhookState) error {
	b := tx.Bucket(Bucket)
	for _, t := range before.FanOutTypes() {
		if err := b.Delete(subscriptionKey(before.AccountID, t, before.ID)); err != nil {
			return err
		}
	}
	var filter []byte
	if after.Filter != "" {
		filter = []byte(after.Filter)
	}
	for _, t := range after.FanOutTypes() {
		if err := b.Put(subscriptionKey(after.AccountID, t, after.ID), filter); err != nil {
			return err
		}
	}
	if !after.QueuesDeliveries() {
		compiledFilters.forget(after.ID)
	}
	return nil
}

// Targets returns the IDs of the webhooks m queues a delivery for, as the
// index stands in tx: never the webhook an operational event is about.
func Targets(tx *bbolt.Tx, m domain.MessagePublished) []string {
	if !m.FansOut() {
		return nil
	}
	prefix := subscriptionKey(m.AccountID, m.Type, "")
	var ids []string
	c := tx.Bucket(Bucket).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		id := k[len(prefix):]
		if m.AboutWebhookID != "" && !m.ReachesWebhook(string(id)) {
			continue
		}
		if compiledFilters.admits(id, v, m) {
			ids = append(ids, string(id))
		}
	}
	return ids
}

// Delivery is one delivery a message owes: its webhook and its ID.
type Delivery struct {
	WebhookID, DeliveryID string
}

// Deliveries returns the deliveries m owes (Targets), in delivery-ID
// order. The read models file them in that order: the IDs of one message's
// deliveries share its timestamp and differ by a hash, so filed in
// webhook order they land at random places in the one node that the
// indexes keyed by delivery ID (or by creation time, then ID) grow in a
// transaction, and bbolt shifts that node on every insert (at fan-out
// 1,000 it was 3.5% of all CPU); sorted, they append.
func Deliveries(tx *bbolt.Tx, m domain.MessagePublished) []Delivery {
	ids := Targets(tx, m)
	out := make([]Delivery, len(ids))
	for i, id := range ids {
		out[i] = Delivery{WebhookID: id, DeliveryID: domain.DeliveryIDFor(m.MessageID, id)}
	}
	slices.SortFunc(out, func(a, b Delivery) int { return strings.Compare(a.DeliveryID, b.DeliveryID) })
	return out
}

// Subscribed reports whether any webhook of account but except queues
// deliveries of eventType, as the index stands in tx. Operational events
// nobody would receive are not published.
func Subscribed(tx *bbolt.Tx, account, eventType, except string) bool {
	prefix := subscriptionKey(account, eventType, "")
	c := tx.Bucket(Bucket).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if string(k[len(prefix):]) != except {
			return true
		}
	}
	return false
}
