package due

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// The order index files every owed attempt by webhook, line and the log
// position that queued it, so an ordered webhook's dispatcher finds the
// head of each line (the oldest owed delivery) without reading the rest.
// It is kept for every webhook, so switching a webhook to ordered delivery
// orders what is already owed.
var (
	bucketDueOrder = []byte("due_order")    // webhookID 0 len(line)(2) line seq(8) deliveryID -> nil
	bucketOrdering = []byte("due_ordering") // webhookID -> PER_KEY key path; 0 "order-index" -> marker
)

// orderIndexed marks a read model whose order index covers every due
// entry; one written before the index existed is backfilled once.
var orderIndexed = []byte("\x00order-index")

// maxLineKey caps a line key; longer values share the line of their prefix.
const maxLineKey = 512

func linePrefix(webhookID, line string) []byte {
	if len(line) > maxLineKey {
		line = line[:maxLineKey]
	}
	k := make([]byte, 0, len(webhookID)+3+len(line)+8+32)
	k = append(k, webhookID...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint16(k, uint16(len(line)))
	return append(k, line...)
}

func orderKey(e DueEntry) []byte {
	k := binary.BigEndian.AppendUint64(linePrefix(e.WebhookID, e.Line), e.Seq)
	return append(k, e.DeliveryID...)
}

// keyPath is the PER_KEY key path of the webhook, "" when it has none.
func keyPath(tx *bbolt.Tx, webhookID string) string {
	return string(tx.Bucket(bucketOrdering).Get([]byte(webhookID)))
}

// lineOf is the line of a first attempt of m to the webhook.
func lineOf(tx *bbolt.Tx, webhookID string, m domain.MessagePublished) string {
	path := keyPath(tx, webhookID)
	if path == "" {
		return ""
	}
	return domain.Ordering{Mode: domain.OrderingPerKey, Key: path}.KeyOf(m.Data)
}

// setOrdering records which key path splits the webhook's lines; messages
// published afterwards are filed under it.
func setOrdering(tx *bbolt.Tx, webhookID string, o domain.Ordering) error {
	b := tx.Bucket(bucketOrdering)
	if o.Mode == domain.OrderingPerKey {
		return b.Put([]byte(webhookID), []byte(o.Key))
	}
	return b.Delete([]byte(webhookID))
}

// backfillOrder files the due entries of a read model written before the
// order index existed, in due-time order (position 0: ahead of anything
// queued since).
func backfillOrder(tx *bbolt.Tx) error {
	marks := tx.Bucket(bucketOrdering)
	if marks.Get(orderIndexed) != nil {
		return nil
	}
	order := tx.Bucket(bucketDueOrder)
	err := tx.Bucket(bucketDue).ForEach(func(_, v []byte) error {
		var e DueEntry
		if err := jsoncodec.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("due entry: %w", err)
		}
		return order.Put(orderKey(e), nil)
	})
	if err != nil {
		return fmt.Errorf("backfill order index: %w", err)
	}
	return marks.Put(orderIndexed, []byte{1})
}

// dropWebhookOrder removes the webhook's lines and key path.
func dropWebhookOrder(tx *bbolt.Tx, webhookID string) error {
	prefix := append([]byte(webhookID), 0)
	c := tx.Bucket(bucketDueOrder).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketOrdering).Delete([]byte(webhookID))
}

// keepPlace gives e the line and position of the delivery's entry when it
// already has one: the dispatcher schedules a first attempt that fan-out
// queued, and that must not send it to the back of its line.
func keepPlace(tx *bbolt.Tx, e DueEntry) DueEntry {
	if key := tx.Bucket(bucketDueByDelivery).Get([]byte(e.DeliveryID)); key != nil {
		var old DueEntry
		if jsoncodec.Unmarshal(tx.Bucket(bucketDue).Get(key), &old) == nil {
			e.Seq, e.Line = old.Seq, old.Line
		}
	}
	return e
}
