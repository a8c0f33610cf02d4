package due

import (
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
)

// TestTalliesMatchWriteThrough: due counts and health added up over a
// batch and written at its flush end as they do when every change is
// written at once, across batches, a webhook's deletion and counts that
// fall to zero.
func TestTalliesMatchWriteThrough(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	batches := []func(tx *bbolt.Tx, tl *batchState) error{
		func(tx *bbolt.Tx, tl *batchState) error {
			for i, e := range []DueEntry{
				{DeliveryID: "a1", WebhookID: "wa", DueAt: t0},
				{DeliveryID: "a2", WebhookID: "wa", DueAt: t0},
				{DeliveryID: "b1", WebhookID: "wb", DueAt: t0},
				{DeliveryID: "c1", WebhookID: "wc", DueAt: t0},
			} {
				e.Seq = uint64(i + 1)
				if _, err := putDue(tx, tl, e); err != nil {
					return err
				}
			}
			return recordHealth(tx, tl, domain.DeliveryAttempted{WebhookID: "wa", StatusCode: 500, At: t0}, false)
		},
		func(tx *bbolt.Tx, tl *batchState) error {
			if _, err := moveDue(tx, tl, "a1", t0.Add(time.Minute), nil, ""); err != nil { // a retry
				return err
			}
			if err := deleteDue(tx, tl, "a2"); err != nil {
				return err
			}
			if err := deleteDue(tx, tl, "c1"); err != nil { // wc falls to zero
				return err
			}
			if err := recordHealth(tx, tl, domain.DeliveryAttempted{WebhookID: "wa", StatusCode: 503, At: t0.Add(time.Second)}, false); err != nil {
				return err
			}
			if err := recordHealth(tx, tl, domain.DeliveryAttempted{WebhookID: "wb", StatusCode: 200, At: t0.Add(2 * time.Second)}, false); err != nil {
				return err
			}
			if err := recordHealth(tx, tl, domain.DeliveryAttempted{WebhookID: "wc", StatusCode: 500, At: t0}, true); err != nil { // a test: not counted
				return err
			}
			return dropWebhookDue(tx, tl, "wb")
		},
	}
	run := func(batched bool) (map[string]DueCount, map[string]Health) {
		db := orderDB(t)
		var tl *batchState
		if batched {
			tl = &batchState{}
		}
		for _, b := range batches {
			tl.reset()
			err := db.Update(func(tx *bbolt.Tx) error {
				if err := b(tx, tl); err != nil {
					return err
				}
				return tl.flush(tx)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		counts, err := DueCounts(db)
		if err != nil {
			t.Fatal(err)
		}
		health := map[string]Health{}
		for _, id := range []string{"wa", "wb", "wc"} {
			if health[id], err = WebhookHealth(db, id); err != nil {
				t.Fatal(err)
			}
		}
		return counts, health
	}
	wantCounts, wantHealth := run(false)
	if len(wantCounts) != 1 || wantCounts["wa"] != (DueCount{Retries: 1}) {
		t.Fatalf("written through, counts %+v", wantCounts)
	}
	if !wantHealth["wa"].FailingSince.Equal(t0) || !wantHealth["wb"].LastSuccessAt.Equal(t0.Add(2*time.Second)) || wantHealth["wc"] != (Health{}) {
		t.Fatalf("written through, health %+v", wantHealth)
	}
	gotCounts, gotHealth := run(true)
	if len(gotCounts) != len(wantCounts) || gotCounts["wa"] != wantCounts["wa"] {
		t.Errorf("batched counts %+v, written through %+v", gotCounts, wantCounts)
	}
	for id, h := range wantHealth {
		if !gotHealth[id].FailingSince.Equal(h.FailingSince) || !gotHealth[id].LastSuccessAt.Equal(h.LastSuccessAt) {
			t.Errorf("batched health of %s %+v, written through %+v", id, gotHealth[id], h)
		}
	}
}

// TestBatchRemembersOrderingAsItChanges: within one batch, a webhook read
// as unordered and then switched to ordered has what it is owed, and what
// it is owed next, filed in the order index; switched back, neither.
func TestBatchRemembersOrderingAsItChanges(t *testing.T) {
	db := orderDB(t)
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	bs := &batchState{}
	bs.reset()
	err := db.Update(func(tx *bbolt.Tx) error {
		if _, err := putDue(tx, bs, DueEntry{DeliveryID: "d1", WebhookID: "w", Seq: 1, DueAt: t0}); err != nil {
			return err
		}
		if err := setOrdering(tx, bs, "w", domain.Ordering{Mode: domain.OrderingPerWebhook}); err != nil {
			return err
		}
		if _, err := putDue(tx, bs, DueEntry{DeliveryID: "d2", WebhookID: "w", Seq: 2, DueAt: t0}); err != nil {
			return err
		}
		return bs.flush(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := orderKeys(t, db, "w"); !slices.Equal(got, []string{"/1/d1", "/2/d2"}) {
		t.Fatalf("ordered within the batch: %v", got)
	}
	bs.reset()
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := deleteDue(tx, bs, "d1"); err != nil { // read as ordered: leaves its line
			return err
		}
		if err := setOrdering(tx, bs, "w", domain.Ordering{}); err != nil {
			return err
		}
		if _, err := putDue(tx, bs, DueEntry{DeliveryID: "d3", WebhookID: "w", Seq: 3, DueAt: t0}); err != nil {
			return err
		}
		return bs.flush(tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := orderKeys(t, db, "w"); len(got) != 0 {
		t.Fatalf("unordered within the batch: %v", got)
	}
	if counts, err := DueCounts(db); err != nil || counts["w"].Pending != 2 {
		t.Fatalf("due counts %+v, %v: want 2 pending (d2, d3)", counts, err)
	}
}
