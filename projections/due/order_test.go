package due

import (
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
)

func orderDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "read.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range (Due{}).Buckets() {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func heads(t *testing.T, db *bbolt.DB, perWebhook bool) map[string]Line {
	t.Helper()
	lines, err := DueLines(db, "w", perWebhook, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Line{}
	for _, l := range lines {
		out[l.Key] = l
	}
	return out
}

// TestOrderLines: each line's head is its lowest position, whatever the
// due times; a retry keeps its place; the next entry leads once the head
// leaves; PER_WEBHOOK takes the oldest head of all; and a read model
// without the order index is backfilled.
func TestOrderLines(t *testing.T) {
	db := orderDB(t)
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	update := func(fn func(tx *bbolt.Tx) error) {
		t.Helper()
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	update(func(tx *bbolt.Tx) error {
		for _, e := range []DueEntry{
			{DeliveryID: "d3", WebhookID: "w", Line: "a", Seq: 12, DueAt: t0},
			{DeliveryID: "d1", WebhookID: "w", Line: "a", Seq: 10, DueAt: t0.Add(time.Second)},
			{DeliveryID: "d2", WebhookID: "w", Line: "b", Seq: 11, DueAt: t0},
			{DeliveryID: "x1", WebhookID: "w2", Seq: 1, DueAt: t0},
		} {
			if _, err := putDue(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	h := heads(t, db, false)
	if len(h) != 2 || h["a"].Head.DeliveryID != "d1" || h["a"].Waiting != 2 || h["b"].Head.DeliveryID != "d2" || !h["a"].Head.DueAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("lines %+v", h)
	}
	update(func(tx *bbolt.Tx) error { _, err := moveDue(tx, "d1", t0.Add(time.Hour), nil, ""); return err })
	if h = heads(t, db, false); h["a"].Head.DeliveryID != "d1" || !h["a"].Head.Retry || !h["a"].Head.DueAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after the retry: %+v", h["a"])
	}
	if h = heads(t, db, true); len(h) != 1 || h["a"].Head.DeliveryID != "d1" || h["a"].Waiting != 3 {
		t.Fatalf("per webhook: %+v", h)
	}
	update(func(tx *bbolt.Tx) error { return deleteDue(tx, "d1") })
	if h = heads(t, db, true); h["b"].Head.DeliveryID != "d2" {
		t.Fatalf("per webhook after the head left: %+v", h)
	}
	if h = heads(t, db, false); h["a"].Head.DeliveryID != "d3" || h["a"].Waiting != 1 {
		t.Fatalf("line a after its head left: %+v", h["a"])
	}

	update(func(tx *bbolt.Tx) error { // as written before the order index existed
		if err := tx.DeleteBucket(bucketDueOrder); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bucketDueOrder); err != nil {
			return err
		}
		return tx.Bucket(bucketOrdering).Delete(orderIndexed)
	})
	if h = heads(t, db, false); len(h) != 0 {
		t.Fatalf("lines without the index: %+v", h)
	}
	update(backfillOrder)
	if h = heads(t, db, false); h["a"].Head.DeliveryID != "d3" || h["b"].Head.DeliveryID != "d2" {
		t.Fatalf("after the backfill: %+v", h)
	}
}
