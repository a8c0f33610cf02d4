// Package deliveries is the read model of deliveries (detail with attempts,
// per-webhook and per-status listings, the export walk) and of per-minute
// attempt stats. A delivery is listed as pending from the moment its
// message fans out (projections/fanout).
package deliveries

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/fanout"
)

var (
	bucketDeliveries          = []byte("deliveries")            // id -> DeliveryView JSON
	bucketDeliveriesByWebhook = []byte("deliveries_by_webhook") // webhook 0 createdPos id -> indexValue
	bucketDeliveriesByStatus  = []byte("deliveries_by_status")  // webhook 0 status 0 createdPos id -> indexValue
	bucketDeliveriesByCreated = []byte("deliveries_by_created") // createdUnixNano id -> nil, for retention
)

// Change topics of delivery read-model updates. Every applied delivery
// event publishes both: TopicDelivery keyed by the delivery id, for a view
// of one delivery, and TopicWebhookDeliveries keyed by the webhook id, so a
// deliveryUpdated(webhook) subscription can select by webhook without
// loading each delivery.
const (
	TopicDelivery          = "delivery"
	TopicWebhookDeliveries = "webhook-deliveries"
)

// What a delivery change reports. An attempt's one event reports the
// attempt and what it moved (status or next attempt): two changes at one
// position, one message each, each saying which.
const (
	// DeliveryListed: the delivery was listed (as pending) for the first time.
	DeliveryListed projections.ChangeWhat = 1 + iota
	// DeliveryAttemptRecorded: an attempt was added to its log.
	DeliveryAttemptRecorded
	// DeliveryStatusChanged: its status moved.
	DeliveryStatusChanged
	// DeliveryRescheduled: its next attempt moved, its status did not.
	DeliveryRescheduled
)

// deliveryChange says what folding one event changed between two views,
// or 0 for an event that changed nothing a subscriber sees. Of the events
// before DeliveryAttemptRecorded (attemptChanges), none both records an
// attempt and moves the status.
func deliveryChange(before, after DeliveryView, created bool) projections.ChangeWhat {
	switch {
	case created:
		return DeliveryListed
	case after.Status != before.Status:
		return DeliveryStatusChanged
	case after.DeliveryState.Attempts != before.DeliveryState.Attempts:
		return DeliveryAttemptRecorded
	case !after.NextAttemptAt.Equal(before.NextAttemptAt):
		return DeliveryRescheduled
	}
	return 0
}

// maxKeptAttempts bounds the attempts kept in a delivery's read model.
// One round of the retry schedule is about eleven attempts, but every
// redelivery starts another round; past this many only the newest are
// kept, and the full record stays in the delivery's history.
const maxKeptAttempts = 200

// Deliveries is the delivery detail and per-webhook listing projection. The
// detail is the aggregate state folded by the domain's own EvolveDelivery,
// plus the log of attempts that the aggregate itself does not need to keep.
//
// It folds a batch in memory and writes each changed view once, when the
// runner flushes the batch: a first attempt appends [scheduled, attempted,
// outcome] together, and decoding and re-encoding the view for each of the
// three was the runner's largest cost.
type Deliveries struct {
	batch    map[string]*DeliveryView // views changed in the current batch
	listings listingWrites            // the batch's writes to the listing indexes
}

var _ projections.Batcher = (*Deliveries)(nil)

// Name implements Projection.
func (*Deliveries) Name() string { return "deliveries" }

// BeginBatch implements Batcher.
func (d *Deliveries) BeginBatch() {
	d.batch = map[string]*DeliveryView{}
	d.listings.writes = d.listings.writes[:0]
}

// FlushBatch implements Batcher: it writes every view the batch changed,
// and the batch's listing-index writes, each in key order: bbolt inserts
// into a node by shifting what follows, so puts in map order into a node
// that grows through the batch cost a memmove each, and sorted ones
// append. Attempts are not written: their log is the delivery's stream
// (ReadAttemptLog).
func (d *Deliveries) FlushBatch(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketDeliveries)
	ids := make([]string, 0, len(d.batch))
	for id := range d.batch {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := putDelivery(b, id, *d.batch[id]); err != nil {
			return err
		}
	}
	if err := d.listings.flush(tx); err != nil {
		return err
	}
	d.BeginBatch()
	return nil
}

// view returns the delivery's summary as folded so far, from the batch or
// the bucket. A view stored before attempts had rows of their own carries
// its log inline; it is left out when the view is written back, the
// delivery having a stream (the event being folded is in it) that holds
// the log.
func (d *Deliveries) view(tx *bbolt.Tx, id string) (DeliveryView, bool, error) {
	if v, ok := d.batch[id]; ok {
		return *v, true, nil
	}
	v, found, err := Summary(tx, id)
	if len(v.Attempts) > 0 {
		v.Attempts = nil
	}
	return v, found, err
}

// Buckets implements Projection.
func (*Deliveries) Buckets() []string {
	return []string{string(bucketDeliveries), string(bucketDeliveriesByWebhook), string(bucketDeliveriesByStatus), string(bucketDeliveriesByCreated), string(bucketDeliveryAttempts)}
}

// DeliveryView is a delivery as the read model holds it.
//
// Attempts (the log) shadows DeliveryState.Attempts (the count of every
// attempt ever made); read the count as view.DeliveryState.Attempts. The
// log is stored under its own JSON name so neither overwrites the other.
//
// The stored view is a summary: its attempts are rows of their own
// (attempts.go), which GetDelivery, ListDeliveries and EachDelivery read
// into Attempts. Views stored before then carry the log inline, under the
// same name, until their next event moves it to rows.
type DeliveryView struct {
	domain.DeliveryState
	// Attempts lists the attempts in the order they were made, at most
	// the newest maxKeptAttempts.
	Attempts []AttemptView `json:"attemptLog,omitempty"`
	// CreatedPosition orders the listing (newest first) and forms cursors.
	CreatedPosition eventstore.Position
	// Revision is the stream revision of the last event folded in.
	Revision uint64
}

// AttemptView is one HTTP attempt of a delivery, as recorded.
type AttemptView struct {
	Number     int       `json:"number"` // 1-based, over the delivery's life
	At         time.Time `json:"at"`
	StatusCode int       `json:"statusCode,omitempty"` // 0 when no response arrived
	LatencyMs  int64     `json:"latencyMs"`
	ErrorClass string    `json:"errorClass,omitempty"`
	// ErrorMessage, ResponseExcerpt and RequestHeaders are as bounded and
	// redacted by the domain when the attempt was decided.
	ErrorMessage    string            `json:"errorMessage,omitempty"`
	ResponseExcerpt string            `json:"responseExcerpt,omitempty"`
	RequestHeaders  map[string]string `json:"requestHeaders,omitempty"`
	// BatchID and BatchSize name the batch the attempt sent the delivery
	// in; empty for a single attempt.
	BatchID   string `json:"batchId,omitempty"`
	BatchSize int    `json:"batchSize,omitempty"`
}

// Apply implements Projection.
func (d *Deliveries) Apply(tx *bbolt.Tx, rec eventstore.RecordedEvent, ev eventstore.Event) ([]projections.Change, error) {
	if d.batch == nil {
		d.BeginBatch()
	}
	if m, ok := ev.(domain.MessagePublished); ok {
		return d.applyFanOut(tx, rec, m)
	}
	id, ok := domain.DeliveryIDFromStream(rec.Stream)
	if !ok || ev == nil {
		return nil, nil
	}
	return d.applyDeliveryEvent(tx, rec, id, ev)
}

// applyFanOut lists the deliveries a message owes as pending from the
// moment it is published: the first attempt appends their scheduling event,
// so without this a delivery to a paused webhook would be invisible until
// the webhook is resumed. The match is fan-out's (projections/fanout), the same one
// the due index uses in this transaction; test sends are not fanned out
// but attempted at once and recorded then.
func (d *Deliveries) applyFanOut(tx *bbolt.Tx, rec eventstore.RecordedEvent, m domain.MessagePublished) ([]projections.Change, error) {
	var changes []projections.Change
	for _, t := range fanout.Deliveries(tx, m) {
		id, webhookID := t.DeliveryID, t.WebhookID
		c, err := d.applyDeliveryEvent(tx, rec, id, domain.DeliveryScheduled{
			DeliveryID: id, MessageID: m.MessageID, WebhookID: webhookID, AccountID: m.AccountID,
			MessageType: m.Type, ScheduledAt: m.PublishedAt, At: m.PublishedAt,
		})
		if err != nil {
			return nil, err
		}
		changes = append(changes, c...)
	}
	return changes, nil
}

func (d *Deliveries) applyDeliveryEvent(tx *bbolt.Tx, rec eventstore.RecordedEvent, id string, ev eventstore.Event) ([]projections.Change, error) {
	view, found, err := d.view(tx, id)
	if err != nil {
		return nil, err
	}
	_, scheduled := ev.(domain.DeliveryScheduled)
	recorded, isRecorded := ev.(domain.DeliveryAttemptRecorded)
	if found && scheduled && view.DeliveryState.Attempts == 0 && view.Status == domain.DeliveryStatusPending {
		// Listed as pending at fan-out; the stream's own scheduling event
		// (appended with the first attempt) adds nothing new.
		view.Revision = rec.Revision
		d.batch[id] = &view
		return nil, nil
	}
	if !found && !scheduled && !(isRecorded && recorded.OpensStream()) {
		// The stream's start is gone (retention removed it): without the
		// scheduling event the delivery has no account to be shown to.
		return nil, nil
	}
	before := view
	if !found {
		view.CreatedPosition = rec.Position
	}
	folded := ev
	if found && isRecorded && recorded.OpensStream() {
		// Listed at fan-out: the attempt's scheduling facts add nothing
		// new, and folding them would restart the state (its creation
		// time among it) at the attempt.
		recorded.MessageID = ""
		folded = recorded
	}
	view.DeliveryState = domain.EvolveDelivery(view.DeliveryState, folded)
	if _, fromStream := domain.DeliveryIDFromStream(rec.Stream); fromStream {
		view.Revision = rec.Revision
		view.DeliveryState.Version = rec.Revision + 1
	}
	d.batch[id] = &view
	if err := indexDelivery(&d.listings, view, before.Status, !found); err != nil {
		return nil, fmt.Errorf("delivery %s: index: %w", id, err)
	}
	whats := []projections.ChangeWhat{deliveryChange(before, view, !found)}
	if isRecorded {
		whats = attemptChanges(before, view, !found)
	}
	var changes []projections.Change
	for _, what := range whats {
		if what == 0 {
			continue
		}
		changes = append(changes,
			projections.Change{Topic: TopicDelivery, Account: view.AccountID, ID: id, Position: rec.Position, What: what},
			projections.Change{Topic: TopicWebhookDeliveries, Account: view.AccountID, ID: view.WebhookID, Ref: id, Position: rec.Position, What: what})
	}
	return changes, nil
}

// attemptChanges is what folding a DeliveryAttemptRecorded changed: the
// changes its parts reported one by one before it was one event, in that
// order and at its one position. A first attempt of a delivery not yet
// listed is listed too.
func attemptChanges(before, after DeliveryView, created bool) []projections.ChangeWhat {
	var whats []projections.ChangeWhat
	if created {
		whats, before.Status = append(whats, DeliveryListed), domain.DeliveryStatusPending
	}
	whats = append(whats, DeliveryAttemptRecorded)
	switch {
	case after.Status != before.Status:
		whats = append(whats, DeliveryStatusChanged)
	case after.Status == domain.DeliveryStatusRetrying:
		whats = append(whats, DeliveryRescheduled)
	}
	return whats
}

func putDelivery(b *bbolt.Bucket, id string, view DeliveryView) error {
	raw, err := EncodeSummary(view)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), raw)
}

func attemptView(a domain.DeliveryAttempted) AttemptView {
	return AttemptView{
		Number: a.Attempt, At: a.At, StatusCode: a.StatusCode, LatencyMs: a.LatencyMs,
		ErrorClass: a.ErrorClass, ErrorMessage: a.ErrorMessage,
		ResponseExcerpt: a.ResponseExcerpt, RequestHeaders: a.RequestHeaders,
		BatchID: a.BatchID, BatchSize: a.BatchSize,
	}
}

// indexDelivery keeps the listing indexes in step with the detail: the
// by-webhook entry is written once, at creation; the by-status entry moves
// whenever the status changes.
func indexDelivery(w *listingWrites, v DeliveryView, oldStatus domain.DeliveryStatus, created bool) error {
	val := indexValue(v)
	if created {
		w.put(bucketDeliveriesByWebhook, deliveryKey(v.WebhookID, "", v.CreatedPosition, v.ID), val)
		w.put(bucketDeliveriesByCreated, createdKey(v), nil)
	}
	if oldStatus == v.Status {
		return nil
	}
	if oldStatus != "" {
		w.delete(bucketDeliveriesByStatus, deliveryKey(v.WebhookID, oldStatus, v.CreatedPosition, v.ID))
	}
	w.put(bucketDeliveriesByStatus, deliveryKey(v.WebhookID, v.Status, v.CreatedPosition, v.ID), val)
	return nil
}

// listingWrites are a batch's writes to the listing indexes, in the order
// they were made. They are put in key order when the batch is flushed: a
// message fanned out to many webhooks inserts into as many webhooks'
// ranges of each index, and bbolt shifts a node for every insert into its
// middle, which in one transaction's growing nodes made 3% of all CPU at
// fan-out 1,000. The sort is stable, so of two writes to one key the
// later still lands last.
type listingWrites struct {
	writes []listingWrite
}

type listingWrite struct {
	bucket, key, val []byte
	del              bool
}

func (w *listingWrites) put(bucket, key, val []byte) {
	w.writes = append(w.writes, listingWrite{bucket: bucket, key: key, val: val})
}

func (w *listingWrites) delete(bucket, key []byte) {
	w.writes = append(w.writes, listingWrite{bucket: bucket, key: key, del: true})
}

func (w *listingWrites) flush(tx *bbolt.Tx) error {
	slices.SortStableFunc(w.writes, func(a, b listingWrite) int {
		if c := bytes.Compare(a.bucket, b.bucket); c != 0 {
			return c
		}
		return bytes.Compare(a.key, b.key)
	})
	var b *bbolt.Bucket
	for i, lw := range w.writes {
		if i == 0 || !bytes.Equal(lw.bucket, w.writes[i-1].bucket) {
			b = tx.Bucket(lw.bucket)
		}
		var err error
		if lw.del {
			err = b.Delete(lw.key)
		} else {
			err = b.Put(lw.key, lw.val)
		}
		if err != nil {
			return fmt.Errorf("listing %s: %w", lw.bucket, err)
		}
	}
	w.writes = w.writes[:0]
	return nil
}

// deliveryKey sorts a webhook's deliveries in creation order, optionally
// within one status; listings walk it backwards for newest first. The
// position is not inverted (unlike the webhook listing's) because new
// deliveries then land at the end of the index: bbolt splits nodes only at
// commit, so keys inserted at the front of a node shift the whole node on
// every insert, which made large catch-up transactions quadratic. The part
// after the prefix (position and id) is the same in both indexes, so a
// cursor from either resumes in the other.
func deliveryKey(webhookID string, status domain.DeliveryStatus, created eventstore.Position, id string) []byte {
	k := deliveryPrefix(webhookID, status)
	k = binary.BigEndian.AppendUint64(k, uint64(created))
	return append(k, id...)
}

// deliveryPrefix is the key prefix of a webhook's deliveries, or of those
// with one status; it ends in a 0 byte.
func deliveryPrefix(webhookID string, status domain.DeliveryStatus) []byte {
	k := make([]byte, 0, len(webhookID)+len(status)+2+8+32)
	k = append(k, webhookID...)
	k = append(k, 0)
	if status != "" {
		k = append(k, status...)
		k = append(k, 0)
	}
	return k
}

// indexValue holds what the listing filters on besides status, so
// filtering does not decode details that are then thrown away: the
// creation time (unix nanoseconds) and a flag byte (1 = test delivery).
func indexValue(v DeliveryView) []byte {
	val := binary.BigEndian.AppendUint64(make([]byte, 0, 9), uint64(v.CreatedAt.UnixNano()))
	var flags byte
	if v.Test {
		flags |= 1
	}
	return append(val, flags)
}

func parseIndexValue(val []byte) (created time.Time, test bool) {
	if len(val) < 9 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(val))).UTC(), val[8]&1 != 0
}

// getDeliveryTx returns delivery id with its attempt log, for readers.
func getDeliveryTx(tx *bbolt.Tx, id string) (DeliveryView, bool, error) {
	view, found, err := Summary(tx, id)
	if err != nil || !found || len(view.Attempts) > 0 {
		return view, found, err // a view stored before attempt rows carries its log
	}
	view.Attempts, err = readAttempts(tx, id)
	for i, a := range view.Attempts {
		view.Attempts[i] = view.shown(a)
	}
	return view, found, err
}

// Summary returns delivery id as stored, without reading its attempt
// rows: what folding an event and the indexes need, and what the due
// index reads of a finished delivery.
func Summary(tx *bbolt.Tx, id string) (DeliveryView, bool, error) {
	b := tx.Bucket(bucketDeliveries)
	if b == nil {
		return DeliveryView{}, false, nil
	}
	raw := b.Get([]byte(id))
	if raw == nil {
		return DeliveryView{}, false, nil
	}
	view, err := DecodeSummary(raw)
	if err != nil {
		return DeliveryView{}, false, fmt.Errorf("read model: delivery %s: %w", id, err)
	}
	return view, true, nil
}

// GetDelivery returns the account's delivery id with its attempts. A
// delivery of another account is simply not found.
func GetDelivery(db *bbolt.DB, account, id string) (DeliveryView, bool, error) {
	var view DeliveryView
	var found bool
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		view, found, err = getDeliveryTx(tx, id)
		return err
	})
	if err != nil || !found || view.AccountID != account {
		return DeliveryView{}, false, err
	}
	return view, true, nil
}
