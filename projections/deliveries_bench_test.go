package projections_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
)

// buildDeliveries folds n deliveries of one webhook into a fresh read model
// through the projections' own Apply, in large transactions, without a
// store. Each delivery gets scheduled, attempted and settled: 90%
// succeed, 8% wait for a retry, 2% fail.
func buildDeliveries(b *testing.B, n int) *bbolt.DB {
	b.Helper()
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "readmodel.db"), 0o600, &bbolt.Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ps := []projections.Projection{&deliveries.Deliveries{}, &deliveries.AttemptStats{}}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, p := range ps {
			for _, name := range p.Buckets() {
				if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	start, pos := time.Now(), eventstore.Position(0)
	// Large, but not so large that one in-memory bbolt node (split only at
	// commit) grows to tens of thousands of entries: inserts into the
	// middle of the status index would then shift it every time.
	const perTx = 5_000
	for done := 0; done < n; done += perTx {
		err := db.Update(func(tx *bbolt.Tx) error {
			for i := done; i < min(done+perTx, n); i++ {
				for rev, ev := range benchDeliveryEvents(i) {
					pos++
					rec := eventstore.RecordedEvent{Stream: domain.DeliveryStream(fmt.Sprintf("dlv_%07d", i)), Revision: uint64(rev), Position: pos, Type: ev.EventType()}
					for _, p := range ps {
						if _, err := p.Apply(tx, rec, ev); err != nil {
							return err
						}
					}
				}
			}
			for _, p := range ps {
				if batcher, ok := p.(projections.Batcher); ok {
					if err := batcher.FlushBatch(tx); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built %d deliveries (%d events) in %v", n, pos, time.Since(start).Round(time.Second))
	return db
}

var benchT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func benchDeliveryEvents(i int) []eventstore.Event {
	id := fmt.Sprintf("dlv_%07d", i)
	at := benchT0.Add(time.Duration(i) * 100 * time.Millisecond)
	events := []eventstore.Event{
		domain.DeliveryScheduled{DeliveryID: id, MessageID: "msg_" + id, WebhookID: "wh_big", AccountID: "acme", MessageType: "email.bounce", ScheduledAt: at, At: at},
	}
	status := 200
	switch i % 50 {
	case 0:
		status = 410
	case 1, 2, 3, 4:
		status = 503
	}
	events = append(events, domain.DeliveryAttempted{
		DeliveryID: id, WebhookID: "wh_big", Attempt: 1, At: at, StatusCode: status, LatencyMs: int64(20 + i%200),
		ResponseExcerpt: "ok", RequestHeaders: map[string]string{"webhook-id": "msg_" + id, "webhook-timestamp": "1767225600", "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="},
	})
	switch status {
	case 200:
		events = append(events, domain.DeliverySucceeded{DeliveryID: id, WebhookID: "wh_big", Attempt: 1, At: at})
	case 503:
		events = append(events, domain.DeliveryRetryScheduled{DeliveryID: id, WebhookID: "wh_big", Attempt: 2, DueAt: at.Add(5 * time.Second), At: at})
	default:
		events = append(events, domain.DeliveryFailed{DeliveryID: id, WebhookID: "wh_big", Reason: "HTTP 410", Attempts: 1, DisablesWebhook: true, At: at})
	}
	return events
}

// BenchmarkListDeliveries1M measures deliveries(first: 50) against a
// webhook with a million deliveries in its history, and reports the p50 and
// p99 of the listing calls. Building the read model takes about a minute.
//
//	go test ./projections/ -run '^$' -bench ListDeliveries1M -benchtime 2000x
func BenchmarkListDeliveries1M(b *testing.B) {
	db := buildDeliveries(b, 1_000_000)
	// A cursor half way down the history, for a deep page.
	var deep string
	for after, i := "", 0; i < 3; i++ {
		page, err := deliveries.ListDeliveries(db, "acme", "wh_big", deliveries.DeliveryFilter{}, 100, after)
		if err != nil {
			b.Fatal(err)
		}
		after, deep = page.Cursors[len(page.Cursors)-1], page.Cursors[len(page.Cursors)-1]
	}
	yes := true
	for _, bc := range []struct {
		name   string
		filter deliveries.DeliveryFilter
		after  string
	}{
		{"unfiltered", deliveries.DeliveryFilter{}, ""},
		{"status=failed", deliveries.DeliveryFilter{Status: "failed"}, ""},
		{"status=retrying", deliveries.DeliveryFilter{Status: "retrying"}, ""},
		{"since=1h", deliveries.DeliveryFilter{Since: benchT0.Add(100_000 * time.Second).Add(-time.Hour)}, ""},
		{"unfiltered/after-cursor", deliveries.DeliveryFilter{}, deep},
		{"test-only(none match)", deliveries.DeliveryFilter{Test: &yes, Since: benchT0.Add(100_000 * time.Second).Add(-time.Hour)}, ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				page, err := deliveries.ListDeliveries(db, "acme", "wh_big", bc.filter, 50, bc.after)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if bc.filter.Test == nil && len(page.Deliveries) != 50 {
					b.Fatalf("page has %d deliveries", len(page.Deliveries))
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
