package due

import (
	"bytes"
	"slices"
	"strings"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/internal/jsoncodec"
)

// This file holds how a run of messages files its first attempts. A
// message fanned out to many webhooks files an entry in each one's range
// of the due index, and a batch of such messages (a burst, a catch-up)
// inserts tens of thousands of entries into the same few nodes of one
// transaction. bbolt shifts a node's entries for every insert into its
// middle, so those puts cost a memmove in proportion to what the batch
// had filed already: 19% of all CPU at fan-out 100. The entries are
// instead kept in the batch state and put in key order, which appends
// to the nodes, before anything else reads the index: before the next
// event that is not a message, and at the batch's flush.

// firstEntry is a first attempt filed but not yet written.
type firstEntry struct {
	key, raw   []byte
	deliveryID string
}

// fileFirst files a first attempt of an unordered webhook for writing
// with the rest of the run (flushFirsts). As putDue, it replaces any
// entry the delivery has.
func fileFirst(tx *bbolt.Tx, t *batchState, e DueEntry) error {
	if i, ok := t.firstAt[e.DeliveryID]; ok {
		// The run filed this delivery already (the same message twice):
		// the later entry replaces it, as a put over it would. A delivery
		// ID names one webhook, and a first attempt is no retry, so the
		// entry counted is e's own.
		if err := countDue(tx, t, DueEntry{WebhookID: e.WebhookID}, -1); err != nil {
			return err
		}
		t.firsts[i].deliveryID = "" // dropped at the flush
		delete(t.firstAt, e.DeliveryID)
	}
	if err := deleteDue(tx, t, e.DeliveryID); err != nil {
		return err
	}
	raw, err := jsoncodec.Marshal(e)
	if err != nil {
		return err
	}
	t.firstAt[e.DeliveryID] = len(t.firsts)
	t.firsts = append(t.firsts, firstEntry{key: dueKey(e.WebhookID, e.DueAt, e.DeliveryID), raw: raw, deliveryID: e.DeliveryID})
	return countDue(tx, t, e, 1)
}

// flushFirsts writes the first attempts the run filed, each bucket's in
// key order.
func flushFirsts(tx *bbolt.Tx, t *batchState) error {
	if t == nil || len(t.firsts) == 0 {
		return nil
	}
	firsts := slices.DeleteFunc(t.firsts, func(f firstEntry) bool { return f.deliveryID == "" })
	slices.SortFunc(firsts, func(a, b firstEntry) int { return bytes.Compare(a.key, b.key) })
	due := tx.Bucket(bucketDue)
	for _, f := range firsts {
		if err := due.Put(f.key, f.raw); err != nil {
			return err
		}
	}
	slices.SortFunc(firsts, func(a, b firstEntry) int { return strings.Compare(a.deliveryID, b.deliveryID) })
	byDelivery := tx.Bucket(bucketDueByDelivery)
	for _, f := range firsts {
		if err := byDelivery.Put([]byte(f.deliveryID), f.key); err != nil {
			return err
		}
	}
	t.dropFirsts()
	return nil
}

// keptFirsts bounds the buffer a batch keeps for the next run: a burst
// of fan-out to many webhooks fills it with hundreds of thousands.
const keptFirsts = 4096

// dropFirsts empties the buffer, keeping its array only if it is small
// (and its entries' bytes for none: they are cleared).
func (t *batchState) dropFirsts() {
	if cap(t.firsts) > keptFirsts {
		t.firsts, t.firstAt = nil, map[string]int{}
		return
	}
	clear(t.firsts)
	t.firsts = t.firsts[:0]
	clear(t.firstAt)
}
