package fanout

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
)

// fanOutDB is a real bbolt read model whose subscriptions index holds n
// verified webhooks of account acme on email.bounce, each with filter
// (empty for none).
func fanOutDB(tb testing.TB, n int, filter string) *bbolt.DB {
	tb.Helper()
	db, err := bbolt.Open(filepath.Join(tb.TempDir(), "read.db"), 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucket(Bucket); err != nil {
			return err
		}
		for i := range n {
			s := domain.WebhookState{ID: fmt.Sprintf("wh_%04d", i), AccountID: "acme", Status: domain.WebhookStatusActive,
				Verification: domain.Verification{Status: domain.VerificationVerified}, EventTypes: []string{"email.bounce"}, Filter: filter}
			if err := UpdateSubscriptions(tx, domain.WebhookState{}, s); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

var hardBounce = domain.MessagePublished{MessageID: "m1", AccountID: "acme", Type: "email.bounce",
	Data: json.RawMessage(`{"recipient": "a@example.org", "severity": "hard", "code": 550, "tags": ["newsletter", "spring"]}`)}

func targets(tb testing.TB, db *bbolt.DB, m domain.MessagePublished) (ids []string) {
	if err := db.View(func(tx *bbolt.Tx) error { ids = Targets(tx, m); return nil }); err != nil {
		tb.Fatal(err)
	}
	return ids
}

// TestFanOutFilter: fan-out applies each webhook's filter, compiles it
// once, follows a change of it, and a webhook whose filter turns the
// message away costs no allocation however many there are.
func TestFanOutFilter(t *testing.T) {
	pass := fanOutDB(t, 3, `{"data.tags":{"$contains":"newsletter"}}`)
	if got := targets(t, pass, hardBounce); len(got) != 3 {
		t.Fatalf("passing filter: targets %v", got)
	}
	none := fanOutDB(t, 1000, `{"data.severity":"soft"}`)
	if got := targets(t, none, hardBounce); len(got) != 0 {
		t.Fatalf("failing filter: %d targets", len(got))
	}
	// Half as many webhooks (the index is as deep): any allocation per
	// webhook would show as a difference.
	half := fanOutDB(t, 500, `{"data.severity":"soft"}`)
	perMessage := func(db *bbolt.DB) float64 {
		return testing.AllocsPerRun(50, func() {
			_ = db.View(func(tx *bbolt.Tx) error { _ = Targets(tx, hardBounce); return nil })
		})
	}
	if a500, a1000 := perMessage(half), perMessage(none); a1000 != a500 {
		t.Errorf("allocations per message: %v with 500 filtered-out webhooks, %v with 1,000", a500, a1000)
	}

	// The same webhook IDs with another filter: the cache follows the
	// index entry, not what it compiled first.
	changed := fanOutDB(t, 2, `{"data.code":{"$gte":500}}`)
	if got := targets(t, changed, hardBounce); len(got) != 2 {
		t.Errorf("after a filter change: targets %v", got)
	}
	if got := targets(t, fanOutDB(t, 2, ""), hardBounce); len(got) != 2 {
		t.Errorf("without filters: targets %v", got)
	}
}

// BenchmarkFanOut1000 is the cost of fanning one message out to 1,000
// subscribed webhooks: without filters, with filters all pass, and with
// filters none pass. Run: go test ./projections/fanout -run '^$' -bench FanOut1000
func BenchmarkFanOut1000(b *testing.B) {
	for _, bc := range []struct{ name, filter string }{
		{"NoFilters", ""},
		{"FiltersPass", `{"data.severity":"hard","data.tags":{"$contains":"newsletter"},"data.code":{"$gte":500}}`},
		{"FiltersTurnAway", `{"data.severity":"soft","data.tags":{"$contains":"newsletter"}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			db := fanOutDB(b, 1000, bc.filter)
			targets(b, db, hardBounce) // compile once, as the first message after a change does
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				_ = db.View(func(tx *bbolt.Tx) error { _ = Targets(tx, hardBounce); return nil })
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/webhook")
		})
	}
}

// TestDeliveriesInIDOrder: Deliveries owes what Targets does, each with
// its delivery ID, in delivery-ID order.
func TestDeliveriesInIDOrder(t *testing.T) {
	db := fanOutDB(t, 50, "")
	want := targets(t, db, hardBounce)
	var got []Delivery
	if err := db.View(func(tx *bbolt.Tx) error { got = Deliveries(tx, hardBounce); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 50 {
		t.Fatalf("%d deliveries for %d targets", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, d := range got {
		if d.DeliveryID != domain.DeliveryIDFor(hardBounce.MessageID, d.WebhookID) {
			t.Fatalf("delivery %s of webhook %s", d.DeliveryID, d.WebhookID)
		}
		if i > 0 && got[i-1].DeliveryID >= d.DeliveryID {
			t.Fatalf("out of order at %d: %s then %s", i, got[i-1].DeliveryID, d.DeliveryID)
		}
		seen[d.WebhookID] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("target %s missing", id)
		}
	}
}
