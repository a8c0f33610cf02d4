package due

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
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

// updater runs each function given in a write transaction of db, failing
// the test on an error.
func updater(t *testing.T, db *bbolt.DB) func(func(tx *bbolt.Tx) error) {
	return func(fn func(tx *bbolt.Tx) error) {
		t.Helper()
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
}

// putEntries files each entry in the due index, written through.
func putEntries(tx *bbolt.Tx, entries ...DueEntry) error {
	for _, e := range entries {
		if _, err := putDue(tx, nil, e); err != nil {
			return err
		}
	}
	return nil
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
// leaves; PER_WEBHOOK takes the oldest head of all.
func TestOrderLines(t *testing.T) {
	db := orderDB(t)
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	update := updater(t, db)
	update(func(tx *bbolt.Tx) error {
		if err := setOrdering(tx, nil, "w", domain.Ordering{Mode: domain.OrderingPerKey, Key: "k"}); err != nil {
			return err
		}
		return putEntries(tx,
			DueEntry{DeliveryID: "d3", WebhookID: "w", Line: "a", Seq: 12, DueAt: t0},
			DueEntry{DeliveryID: "d1", WebhookID: "w", Line: "a", Seq: 10, DueAt: t0.Add(time.Second)},
			DueEntry{DeliveryID: "d2", WebhookID: "w", Line: "b", Seq: 11, DueAt: t0},
			DueEntry{DeliveryID: "x1", WebhookID: "w2", Seq: 1, DueAt: t0},
		)
	})
	h := heads(t, db, false)
	if len(h) != 2 || h["a"].Head.DeliveryID != "d1" || h["a"].Waiting != 2 || h["b"].Head.DeliveryID != "d2" || !h["a"].Head.DueAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("lines %+v", h)
	}
	update(func(tx *bbolt.Tx) error { _, err := moveDue(tx, nil, "d1", t0.Add(time.Hour), nil, ""); return err })
	if h = heads(t, db, false); h["a"].Head.DeliveryID != "d1" || !h["a"].Head.Retry || !h["a"].Head.DueAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after the retry: %+v", h["a"])
	}
	if h = heads(t, db, true); len(h) != 1 || h["a"].Head.DeliveryID != "d1" || h["a"].Waiting != 3 {
		t.Fatalf("per webhook: %+v", h)
	}
	update(func(tx *bbolt.Tx) error { return deleteDue(tx, nil, "d1") })
	if h = heads(t, db, true); h["b"].Head.DeliveryID != "d2" {
		t.Fatalf("per webhook after the head left: %+v", h)
	}
	if h = heads(t, db, false); h["a"].Head.DeliveryID != "d3" || h["a"].Waiting != 1 {
		t.Fatalf("line a after its head left: %+v", h["a"])
	}
}

// orderKeys lists the order index's keys of a webhook as line/seq/id.
func orderKeys(t *testing.T, db *bbolt.DB, webhookID string) []string {
	t.Helper()
	var out []string
	err := db.View(func(tx *bbolt.Tx) error {
		prefix := append([]byte(webhookID), 0)
		c := tx.Bucket(bucketDueOrder).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			line, seq, id, ok := splitOrderKey(k[len(prefix):])
			if !ok {
				t.Fatalf("malformed key %q", k)
			}
			out = append(out, fmt.Sprintf("%s/%d/%s", line, seq, id))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOrderIndexHoldsOrderedWebhooksOnly: an unordered webhook's owed
// attempts stay out of the order index; switching it to ordered files
// them in the line and at the position they were queued with, so the
// oldest leads; switching it back removes them.
func TestOrderIndexHoldsOrderedWebhooksOnly(t *testing.T) {
	db := orderDB(t)
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	update := updater(t, db)
	update(func(tx *bbolt.Tx) error {
		return putEntries(tx,
			DueEntry{DeliveryID: "d2", WebhookID: "w", Seq: 11, DueAt: t0},
			DueEntry{DeliveryID: "d1", WebhookID: "w", Seq: 10, DueAt: t0.Add(time.Minute)},
		)
	})
	if got := orderKeys(t, db, "w"); len(got) != 0 {
		t.Fatalf("unordered webhook in the order index: %v", got)
	}
	update(func(tx *bbolt.Tx) error {
		return setOrdering(tx, nil, "w", domain.Ordering{Mode: domain.OrderingPerWebhook})
	})
	if got := orderKeys(t, db, "w"); !slices.Equal(got, []string{"/10/d1", "/11/d2"}) {
		t.Fatalf("after switching to PER_WEBHOOK: %v", got)
	}
	if h := heads(t, db, true); h[""].Head.DeliveryID != "d1" || h[""].Waiting != 2 {
		t.Fatalf("per-webhook line: %+v", h)
	}
	update(func(tx *bbolt.Tx) error { // a key path on top keeps what is filed
		return setOrdering(tx, nil, "w", domain.Ordering{Mode: domain.OrderingPerKey, Key: "k"})
	})
	if got := orderKeys(t, db, "w"); len(got) != 2 {
		t.Fatalf("after switching to PER_KEY: %v", got)
	}
	update(func(tx *bbolt.Tx) error { return deleteDue(tx, nil, "d1") })
	if got := orderKeys(t, db, "w"); !slices.Equal(got, []string{"/11/d2"}) {
		t.Fatalf("after d1 finished: %v", got)
	}
	update(func(tx *bbolt.Tx) error { return setOrdering(tx, nil, "w", domain.Ordering{}) })
	if got := orderKeys(t, db, "w"); len(got) != 0 {
		t.Fatalf("after switching ordering off: %v", got)
	}
	if h := heads(t, db, false); len(h) != 0 {
		t.Fatalf("lines of an unordered webhook: %+v", h)
	}
}

// TestOrderIndexUpgrades: a read model from before the order index files
// its ordered webhooks' entries; one whose index held every webhook's
// entries keeps the ordered ones' (PER_WEBHOOK webhooks, never marked
// then, are marked from the webhooks read model) and drops the rest.
func TestOrderIndexUpgrades(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	entries := []DueEntry{
		{DeliveryID: "p1", WebhookID: "pw", Seq: 1, DueAt: t0},
		{DeliveryID: "k1", WebhookID: "pk", Line: "a", Seq: 2, DueAt: t0},
		{DeliveryID: "n1", WebhookID: "none", Seq: 3, DueAt: t0},
	}
	// written as the earlier versions did: every entry in the order index
	// (or none, before the index), PER_KEY marked, PER_WEBHOOK not.
	oldReadModel := func(t *testing.T, indexed bool) *bbolt.DB {
		db := orderDB(t)
		err := db.Update(func(tx *bbolt.Tx) error {
			webhooks, err := tx.CreateBucketIfNotExists([]byte("webhooks"))
			if err != nil {
				return err
			}
			for id, js := range map[string]string{
				"pw":   `{"ID":"pw","Ordering":{"mode":"per_webhook"}}`,
				"pk":   `{"ID":"pk","Ordering":{"mode":"per_key","key":"k"}}`,
				"none": `{"ID":"none"}`,
			} {
				if err := webhooks.Put([]byte(id), []byte(js)); err != nil {
					return err
				}
			}
			marks := tx.Bucket(bucketOrdering)
			if err := marks.Put([]byte("pk"), []byte("k")); err != nil {
				return err
			}
			for _, e := range entries {
				raw, _ := json.Marshal(e)
				if err := tx.Bucket(bucketDue).Put(dueKey(e.WebhookID, e.DueAt, e.DeliveryID), raw); err != nil {
					return err
				}
				if err := tx.Bucket(bucketDueByDelivery).Put([]byte(e.DeliveryID), dueKey(e.WebhookID, e.DueAt, e.DeliveryID)); err != nil {
					return err
				}
				if indexed {
					if err := tx.Bucket(bucketDueOrder).Put(orderKey(e), nil); err != nil {
						return err
					}
				}
			}
			if indexed {
				return marks.Put(orderIndexed, []byte{1})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	for _, indexed := range []bool{true, false} {
		t.Run(fmt.Sprintf("indexed=%v", indexed), func(t *testing.T) {
			db := oldReadModel(t, indexed)
			if err := db.Update(backfillOrder); err != nil {
				t.Fatal(err)
			}
			if got := orderKeys(t, db, "pw"); !slices.Equal(got, []string{"/1/p1"}) {
				t.Errorf("PER_WEBHOOK webhook: %v", got)
			}
			if got := orderKeys(t, db, "pk"); !slices.Equal(got, []string{"a/2/k1"}) {
				t.Errorf("PER_KEY webhook: %v", got)
			}
			if got := orderKeys(t, db, "none"); len(got) != 0 {
				t.Errorf("unordered webhook: %v", got)
			}
			// From now on the PER_WEBHOOK webhook is known as ordered: a
			// delivery that finishes leaves its line.
			if err := db.Update(func(tx *bbolt.Tx) error { return deleteDue(tx, nil, "p1") }); err != nil {
				t.Fatal(err)
			}
			if got := orderKeys(t, db, "pw"); len(got) != 0 {
				t.Errorf("PER_WEBHOOK webhook after p1 finished: %v", got)
			}
		})
	}
}
