package due

import (
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
	batches := []func(tx *bbolt.Tx, tl *tallies) error{
		func(tx *bbolt.Tx, tl *tallies) error {
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
		func(tx *bbolt.Tx, tl *tallies) error {
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
		var tl *tallies
		if batched {
			tl = &tallies{}
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
