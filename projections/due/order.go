package due

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// The order index files the owed attempts of ordered webhooks by webhook,
// line and the log position that queued them, so an ordered webhook's
// dispatcher finds the head of each line (the oldest owed delivery)
// without reading the rest. Only ordered webhooks are filed: an unordered
// one's put and delete would touch two more pages of every commit for an
// index nobody reads. Switching a webhook to ordered delivery files what
// it is already owed, in the order it was queued (setOrdering).
var (
	bucketDueOrder = []byte("due_order")    // webhookID 0 len(line)(2) line seq(8) deliveryID -> nil
	bucketOrdering = []byte("due_ordering") // webhookID -> PER_KEY key path or perWebhookMark; 0 "order-index..." -> marker
)

// perWebhookMark is the due_ordering value of a PER_WEBHOOK webhook. A key
// path never starts with a 0 byte (domain.Ordering.Validate).
var perWebhookMark = []byte{0}

// orderIndexed marked a read model whose order index covered every due
// entry, of every webhook; orderedOnly marks one whose index covers
// exactly the ordered webhooks' entries. A read model with neither is
// backfilled once, one with the first is trimmed once (backfillOrder).
var (
	orderIndexed = []byte("\x00order-index")
	orderedOnly  = []byte("\x00order-index-ordered")
)

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
	v := tx.Bucket(bucketOrdering).Get([]byte(webhookID))
	if bytes.Equal(v, perWebhookMark) {
		return ""
	}
	return string(v)
}

// ordered reports whether the webhook's owed attempts are filed in the
// order index: it orders its deliveries, per webhook or per key. A batch
// reads each webhook's mark once (t).
func ordered(tx *bbolt.Tx, t *batchState, webhookID string) bool {
	if t != nil && t.ordered != nil {
		if o, ok := t.ordered[webhookID]; ok {
			return o
		}
	}
	o := tx.Bucket(bucketOrdering).Get([]byte(webhookID)) != nil
	if t != nil && t.ordered != nil {
		t.ordered[webhookID] = o
	}
	return o
}

// lineOf is the line of a first attempt of m to the webhook.
func lineOf(tx *bbolt.Tx, t *batchState, webhookID string, m domain.MessagePublished) string {
	if !ordered(tx, t, webhookID) {
		return ""
	}
	path := keyPath(tx, webhookID)
	if path == "" {
		return ""
	}
	return domain.Ordering{Mode: domain.OrderingPerKey, Key: path}.KeyOf(m.Data)
}

// setOrdering records whether the webhook is ordered and which key path
// splits its lines; messages published afterwards are filed under it.
// A webhook that becomes ordered has what it is already owed filed in the
// order index, each entry in the line and at the position it was queued
// with; one that stops being ordered leaves the index.
func setOrdering(tx *bbolt.Tx, t *batchState, webhookID string, o domain.Ordering) error {
	b := tx.Bucket(bucketOrdering)
	was := ordered(tx, t, webhookID)
	if t != nil && t.ordered != nil {
		t.ordered[webhookID] = o.Ordered()
	}
	var err error
	switch o.Mode {
	case domain.OrderingPerKey:
		err = b.Put([]byte(webhookID), []byte(o.Key))
	case domain.OrderingPerWebhook:
		err = b.Put([]byte(webhookID), perWebhookMark)
	default:
		err = b.Delete([]byte(webhookID))
	}
	switch {
	case err != nil:
		return err
	case !was && o.Ordered():
		return fileWebhookOrder(tx, webhookID)
	case was && !o.Ordered():
		return dropOrderKeys(tx, webhookID)
	}
	return nil
}

// fileWebhookOrder files every owed attempt of the webhook in the order
// index.
func fileWebhookOrder(tx *bbolt.Tx, webhookID string) error {
	prefix := append([]byte(webhookID), 0)
	order := tx.Bucket(bucketDueOrder)
	c := tx.Bucket(bucketDue).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var e DueEntry
		if err := jsoncodec.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("due entry: %w", err)
		}
		if err := order.Put(orderKey(e), nil); err != nil {
			return err
		}
	}
	return nil
}

// dropOrderKeys removes the webhook's entries from the order index.
func dropOrderKeys(tx *bbolt.Tx, webhookID string) error {
	prefix := append([]byte(webhookID), 0)
	c := tx.Bucket(bucketDueOrder).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// backfillOrder brings a read model written by an earlier version to the
// order index's invariant, once: PER_WEBHOOK webhooks were not marked
// (only PER_KEY ones had an entry), so they are marked from the webhooks
// read model; then an index that held every webhook's entries drops the
// unordered ones', and a read model from before the index existed files
// the ordered ones' (position 0: ahead of anything queued since).
func backfillOrder(tx *bbolt.Tx) error {
	marks := tx.Bucket(bucketOrdering)
	if marks.Get(orderedOnly) != nil {
		return nil
	}
	if err := markPerWebhook(tx); err != nil {
		return fmt.Errorf("order index: %w", err)
	}
	var webhooks [][]byte
	if marks.Get(orderIndexed) != nil {
		for _, id := range webhookPrefixes(tx.Bucket(bucketDueOrder)) {
			if !ordered(tx, nil, id) {
				if err := dropOrderKeys(tx, id); err != nil {
					return fmt.Errorf("order index: %w", err)
				}
			}
		}
	} else {
		err := marks.ForEach(func(k, _ []byte) error {
			if len(k) > 0 && k[0] != 0 {
				webhooks = append(webhooks, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range webhooks {
			if err := fileWebhookOrder(tx, string(id)); err != nil {
				return fmt.Errorf("backfill order index: %w", err)
			}
		}
	}
	if err := marks.Delete(orderIndexed); err != nil {
		return err
	}
	return marks.Put(orderedOnly, []byte{1})
}

// markPerWebhook marks the PER_WEBHOOK webhooks of the webhooks read model
// (projections/webhooks, in the same file and transaction).
func markPerWebhook(tx *bbolt.Tx) error {
	b := tx.Bucket([]byte("webhooks"))
	if b == nil {
		return nil
	}
	marks := tx.Bucket(bucketOrdering)
	return b.ForEach(func(k, v []byte) error {
		var w struct{ Ordering domain.Ordering }
		if err := jsoncodec.Unmarshal(v, &w); err != nil {
			return fmt.Errorf("webhook %s: %w", k, err)
		}
		if w.Ordering.Mode != domain.OrderingPerWebhook || marks.Get(k) != nil {
			return nil
		}
		return marks.Put(bytes.Clone(k), perWebhookMark)
	})
}

// dropWebhookOrder removes the webhook's lines and key path.
func dropWebhookOrder(tx *bbolt.Tx, webhookID string) error {
	if err := dropOrderKeys(tx, webhookID); err != nil {
		return err
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
