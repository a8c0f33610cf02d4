// Package due is the due index: every attempt that is owed (first attempts
// of fanned-out messages, retries, redeliveries), keyed per webhook and due
// time, plus each webhook's failure health. The dispatcher reads it.
package due

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/jsoncodec"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
)

// The due index holds every delivery attempt that is owed: first attempts
// of fanned-out messages, retries and redeliveries. The dispatcher reads it;
// it never holds pending deliveries in memory.
var (
	bucketDue           = []byte("due")             // webhookID 0 dueUnixNano deliveryID -> DueEntry JSON
	bucketDueByDelivery = []byte("due_by_delivery") // deliveryID -> due key
	bucketHealth        = []byte("webhook_health")  // webhookID -> Health (health.go)
	bucketDueCounts     = []byte("due_counts")      // webhookID -> DueCount (16 bytes)
)

// TopicDue is the Change topic for new due entries; ID is the webhook.
const TopicDue = "due"

// DueEntry is one owed attempt.
type DueEntry struct {
	DeliveryID string `json:"d"`
	MessageID  string `json:"m"`
	WebhookID  string `json:"w"`
	AccountID  string `json:"a"`
	EventType  string `json:"t"`
	Test       bool   `json:"x,omitempty"`
	// Retry is set for attempts after the first (retries, redeliveries).
	Retry bool `json:"r,omitempty"`
	// Seq is the log position that queued the delivery and Line its
	// ordering key (order.go): an ordered webhook sends each line's
	// lowest Seq first. Retries keep both.
	Seq   uint64    `json:"s,omitempty"`
	Line  string    `json:"l,omitempty"`
	DueAt time.Time `json:"-"`
	// Snapshot, on a retry's entry, is the delivery's state when it was
	// filed (folds.go); nil when the projection could not fold it.
	Snapshot *Snapshot `json:"z,omitempty"`
	// Batch, on a retry's entry, is the batch whose failed attempt it
	// follows, so a batched lane sends the members again together.
	Batch string `json:"b,omitempty"`
}

// Health tracks since when every delivery to a webhook has been failing,
// for the rule that disables a webhook after five days of failures.
type Health struct {
	LastSuccessAt time.Time `json:"lastSuccessAt,omitzero"`
	FailingSince  time.Time `json:"failingSince,omitzero"`
}

// Due is the due-index projection; it also owes the first attempts of
// fan-out (fanout.go in this package, from projections/fanout).
type Due struct {
	folds *folds      // nil: entries carry no snapshot
	state *batchState // nil: counts and health are written through
}

// New returns the due projection with its cache of delivery states, so
// retries' entries carry snapshots (folds.go), and its batch state.
func New() Due {
	t := &batchState{}
	t.reset()
	return Due{folds: &folds{}, state: t}
}

var _ projections.Batcher = Due{}

// BeginBatch implements projections.Batcher.
func (d Due) BeginBatch() { d.state.reset() }

// FlushBatch implements projections.Batcher.
func (d Due) FlushBatch(tx *bbolt.Tx) error { return d.state.flush(tx) }

// Name implements Projection.
func (Due) Name() string { return "due" }

// Buckets implements Projection.
func (Due) Buckets() []string {
	return []string{string(bucketDue), string(bucketDueByDelivery), string(bucketHealth), string(bucketDueCounts),
		string(bucketDueOrder), string(bucketOrdering)}
}

// Apply implements Projection.
func (d Due) Apply(tx *bbolt.Tx, rec eventstore.RecordedEvent, ev eventstore.Event) ([]projections.Change, error) {
	if d.state == nil || !d.state.orderChecked {
		if err := backfillOrder(tx); err != nil {
			return nil, err
		}
		if d.state != nil {
			d.state.orderChecked = true
			clear(d.state.ordered) // the upgrade may have marked some
		}
	}
	if _, message := ev.(domain.MessagePublished); !message {
		// What follows a run of messages may read what the run filed.
		if err := flushFirsts(tx, d.state); err != nil {
			return nil, err
		}
	}
	seq := uint64(rec.Position)
	var snap *Snapshot
	if id, ok := domain.DeliveryIDFromStream(rec.Stream); ok && ev != nil {
		if r, final := ev.(domain.DeliveryAttemptRecorded); final && r.Final() {
			d.folds.forget(id) // it files nothing after this: no snapshot to carry
		} else if s, ok := d.folds.apply(id, rec, ev); ok {
			snap = &s
		}
	}
	if r, ok := ev.(domain.DeliveryAttemptRecorded); ok {
		return applyAttemptRecorded(tx, d.state, r, seq, snap)
	}
	return applyEvent(tx, d.state, ev, seq, snap)
}

// applyAttemptRecorded files what an attempt's one event decided, as its
// parts would have been filed one by one. An attempt that ends its
// delivery leaves nothing behind, so the scheduling a first attempt
// carries is skipped: filed by the fan-out or not (a test send), the
// outcome removes whatever entry the delivery has.
func applyAttemptRecorded(tx *bbolt.Tx, t *batchState, r domain.DeliveryAttemptRecorded, seq uint64, snap *Snapshot) ([]projections.Change, error) {
	var changes []projections.Change
	for _, part := range r.Parts() {
		if _, ok := part.(domain.DeliveryScheduled); ok && r.Final() {
			continue
		}
		if a, ok := part.(domain.DeliveryAttempted); ok {
			if err := recordHealth(tx, t, a, r.Test); err != nil {
				return nil, err
			}
			continue
		}
		c, err := applyEvent(tx, t, part, seq, snap)
		if err != nil {
			return nil, err
		}
		changes = append(changes, c...)
	}
	return changes, nil
}

// applyEvent files one event, or one part of a DeliveryAttemptRecorded.
func applyEvent(tx *bbolt.Tx, t *batchState, ev eventstore.Event, seq uint64, snap *Snapshot) ([]projections.Change, error) {
	switch e := ev.(type) {
	case domain.MessagePublished:
		return queueFirstAttempts(tx, t, e, seq) // fanout.go
	case domain.WebhookDeliverySettingsChanged:
		return nil, setOrdering(tx, t, e.WebhookID, e.Ordering)
	case domain.DeliveryScheduled:
		if filed(tx, e) {
			// The fan-out filed exactly this entry; leave it be.
			return []projections.Change{{Topic: TopicDue, Account: e.AccountID, ID: e.WebhookID}}, nil
		}
		return putDue(tx, t, keepPlace(tx, DueEntry{DeliveryID: e.DeliveryID, MessageID: e.MessageID, WebhookID: e.WebhookID,
			AccountID: e.AccountID, EventType: e.MessageType, Test: e.Test, Seq: seq, DueAt: e.ScheduledAt}))
	case domain.DeliveryAttempted:
		return nil, recordHealth(tx, t, e, isTestEntry(tx, e.DeliveryID))
	case domain.DeliveryRetryScheduled:
		return moveDue(tx, t, e.DeliveryID, e.DueAt, snap, e.BatchID)
	case domain.DeliveryRedeliveryRequested:
		if e.MessageID != "" {
			return putDue(tx, t, DueEntry{DeliveryID: e.DeliveryID, MessageID: e.MessageID, WebhookID: e.WebhookID,
				AccountID: e.AccountID, EventType: e.MessageType, Test: e.Test, Retry: true, Seq: seq, DueAt: e.DueAt, Snapshot: snap})
		}
		return moveDue(tx, t, e.DeliveryID, e.DueAt, snap, "") // stored before the event carried its facts
	case domain.DeliverySucceeded:
		return nil, deleteDue(tx, t, e.DeliveryID)
	case domain.DeliveryFailed:
		return nil, deleteDue(tx, t, e.DeliveryID)
	case domain.WebhookDeleted:
		if err := dropWebhookOrder(tx, e.WebhookID); err != nil {
			return nil, err
		}
		return nil, dropWebhookDue(tx, t, e.WebhookID)
	}
	return nil, nil
}

func dueKey(webhookID string, at time.Time, deliveryID string) []byte {
	k := make([]byte, 0, len(webhookID)+1+8+len(deliveryID))
	k = append(k, webhookID...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(max(at.UnixNano(), 0)))
	return append(k, deliveryID...)
}

func putDue(tx *bbolt.Tx, t *batchState, e DueEntry) ([]projections.Change, error) {
	if err := deleteDue(tx, t, e.DeliveryID); err != nil {
		return nil, err
	}
	raw, err := jsoncodec.Marshal(e)
	if err != nil {
		return nil, err
	}
	key := dueKey(e.WebhookID, e.DueAt, e.DeliveryID)
	if err := tx.Bucket(bucketDue).Put(key, raw); err != nil {
		return nil, err
	}
	if ordered(tx, t, e.WebhookID) {
		if err := tx.Bucket(bucketDueOrder).Put(orderKey(e), nil); err != nil {
			return nil, err
		}
	}
	if err := countDue(tx, t, e, 1); err != nil {
		return nil, err
	}
	if err := tx.Bucket(bucketDueByDelivery).Put([]byte(e.DeliveryID), key); err != nil {
		return nil, err
	}
	return []projections.Change{{Topic: TopicDue, Account: e.AccountID, ID: e.WebhookID}}, nil
}

// moveDue re-files an owed attempt under a new due time, with the
// delivery's snapshot when there is one.
func moveDue(tx *bbolt.Tx, t *batchState, deliveryID string, at time.Time, snap *Snapshot, batch string) ([]projections.Change, error) {
	key := tx.Bucket(bucketDueByDelivery).Get([]byte(deliveryID))
	var e DueEntry
	if key != nil {
		if err := jsoncodec.Unmarshal(tx.Bucket(bucketDue).Get(key), &e); err != nil {
			return nil, fmt.Errorf("due entry %s: %w", deliveryID, err)
		}
	} else if e, key = findDelivery(tx, deliveryID); key == nil {
		// The delivery's start is gone from the log (retention expired it
		// and the read model dropped it): nothing can be sent for it.
		return nil, nil
	}
	e.DueAt, e.Retry, e.Snapshot, e.Batch = at, true, snap, batch
	return putDue(tx, t, e)
}

func deleteDue(tx *bbolt.Tx, t *batchState, deliveryID string) error {
	byDelivery := tx.Bucket(bucketDueByDelivery)
	key := byDelivery.Get([]byte(deliveryID))
	if key == nil {
		return nil
	}
	// The count needs the webhook (the key's prefix) and the retry flag;
	// only an ordered webhook's entry is decoded whole, for its order key.
	webhookID, _, _ := bytes.Cut(key, []byte{0})
	e := DueEntry{DeliveryID: deliveryID, WebhookID: string(webhookID)}
	raw := tx.Bucket(bucketDue).Get(key)
	var err error
	isOrdered := ordered(tx, t, e.WebhookID)
	if isOrdered {
		err = jsoncodec.Unmarshal(raw, &e)
	} else {
		var flag struct {
			Retry bool `json:"r"`
		}
		err = jsoncodec.Unmarshal(raw, &flag)
		e.Retry = flag.Retry
	}
	if err != nil {
		return fmt.Errorf("due entry %s: %w", deliveryID, err)
	}
	if err := countDue(tx, t, e, -1); err != nil {
		return err
	}
	if isOrdered {
		if err := tx.Bucket(bucketDueOrder).Delete(orderKey(e)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketDue).Delete(key); err != nil {
		return err
	}
	return byDelivery.Delete([]byte(deliveryID))
}

// findDelivery rebuilds the due entry of a finished delivery, whose own
// entry was removed when it finished, from the deliveries read model.
func findDelivery(tx *bbolt.Tx, deliveryID string) (DueEntry, []byte) {
	d, found, err := deliveries.Summary(tx, deliveryID)
	if err != nil || !found || d.ID == "" {
		return DueEntry{}, nil
	}
	return DueEntry{DeliveryID: d.ID, MessageID: d.MessageID, WebhookID: d.WebhookID, AccountID: d.AccountID, EventType: d.EventType, Test: d.Test}, []byte{}
}

// countDue keeps per-webhook counts of owed first attempts and retries,
// so metrics read them without walking the index. Within a batch the
// counts are added up in t and written once (batchState.flush).
func countDue(tx *bbolt.Tx, t *batchState, e DueEntry, delta int64) error {
	b := tx.Bucket(bucketDueCounts)
	c, ok := t.count(e.WebhookID)
	if !ok {
		c = decodeDueCount(b.Get([]byte(e.WebhookID)))
	}
	if e.Retry {
		c.Retries += delta
	} else {
		c.Pending += delta
	}
	if t != nil {
		t.counts[e.WebhookID] = c
		return nil
	}
	return putDueCount(b, e.WebhookID, c)
}

func putDueCount(b *bbolt.Bucket, webhookID string, c DueCount) error {
	if c.Pending <= 0 && c.Retries <= 0 {
		return b.Delete([]byte(webhookID))
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(c.Pending))
	return b.Put([]byte(webhookID), binary.BigEndian.AppendUint64(v, uint64(c.Retries)))
}

func dropWebhookDue(tx *bbolt.Tx, t *batchState, webhookID string) error {
	if t != nil {
		t.counts[webhookID] = DueCount{} // written as a delete
	}
	if err := tx.Bucket(bucketDueCounts).Delete([]byte(webhookID)); err != nil {
		return err
	}
	prefix := append([]byte(webhookID), 0)
	c := tx.Bucket(bucketDue).Cursor()
	byDelivery := tx.Bucket(bucketDueByDelivery)
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		var e DueEntry
		if err := jsoncodec.Unmarshal(v, &e); err == nil {
			if err := byDelivery.Delete([]byte(e.DeliveryID)); err != nil {
				return err
			}
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
