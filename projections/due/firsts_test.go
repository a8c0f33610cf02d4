package due

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections/fanout"
)

// TestRunOfMessagesFilesAsOneEventABatch: first attempts a run of
// messages files are written at the run's end (firsts.go), yet the index
// ends exactly as when every event is its own batch, and the events after
// a run read what it filed: an attempt that finishes a delivery, a retry
// re-filing one, the scheduling of one already filed, a webhook's
// deletion, and the same message published twice.
func TestRunOfMessagesFilesAsOneEventABatch(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	webhooks := []string{"wa", "wb", "wc", "wd"}
	msg := func(i int) domain.MessagePublished {
		return domain.MessagePublished{MessageID: fmt.Sprintf("msg-%02d", i), AccountID: "acme", Type: "email.open",
			Data: json.RawMessage(`{}`), PublishedAt: t0.Add(time.Duration(i%3) * time.Millisecond)}
	}
	dlv := func(i int, webhook string) string { return domain.DeliveryIDFor(msg(i).MessageID, webhook) }
	var events []eventstore.Event
	for i := range 12 {
		events = append(events, msg(i))
	}
	events = append(events, msg(3), // the same message again
		domain.DeliverySucceeded{DeliveryID: dlv(1, "wa"), WebhookID: "wa", Attempt: 1, At: t0},
		domain.DeliveryRetryScheduled{DeliveryID: dlv(2, "wb"), WebhookID: "wb", Attempt: 1, DueAt: t0.Add(time.Minute), At: t0},
		domain.DeliveryScheduled{DeliveryID: dlv(4, "wa"), MessageID: msg(4).MessageID, WebhookID: "wa", AccountID: "acme",
			MessageType: "email.open", ScheduledAt: msg(4).PublishedAt, At: t0},
		domain.WebhookDeleted{WebhookID: "wc", At: t0})
	for i := 12; i < 20; i++ {
		events = append(events, msg(i))
	}
	events = append(events, domain.DeliveryFailed{DeliveryID: dlv(15, "wd"), WebhookID: "wd", At: t0})

	apply := func(perBatch int) map[string]map[string]string {
		db := orderDB(t)
		err := db.Update(func(tx *bbolt.Tx) error {
			if _, err := tx.CreateBucketIfNotExists(fanout.Bucket); err != nil {
				return err
			}
			for _, id := range webhooks {
				hook := domain.WebhookState{ID: id, AccountID: "acme", EventTypes: []string{"email.open"},
					Status: domain.WebhookStatusActive, Verification: domain.Verification{Status: domain.VerificationVerified}}
				if err := fanout.UpdateSubscriptions(tx, domain.WebhookState{}, hook); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		d := New()
		for start := 0; start < len(events); start += perBatch {
			err := db.Update(func(tx *bbolt.Tx) error {
				d.BeginBatch()
				for i, ev := range events[start:min(start+perBatch, len(events))] {
					rec := eventstore.RecordedEvent{Position: eventstore.Position(start + i + 1), Stream: streamOf(ev)}
					if _, err := d.Apply(tx, rec, ev); err != nil {
						return err
					}
				}
				return d.FlushBatch(tx)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return dumpBuckets(t, db, d.Buckets())
	}
	oneByOne, together := apply(1), apply(len(events))
	for _, b := range slices.Sorted(maps.Keys(oneByOne)) {
		if !maps.Equal(oneByOne[b], together[b]) {
			t.Errorf("bucket %s: %d keys applied one event a batch, %d in one batch, and they differ", b, len(oneByOne[b]), len(together[b]))
		}
	}
	// What the events did, so the comparison is of an index that holds it.
	due := oneByOne[string(bucketDueByDelivery)]
	for _, c := range []struct {
		id   string
		want bool
	}{{dlv(0, "wa"), true}, {dlv(1, "wa"), false}, {dlv(2, "wb"), true}, {dlv(5, "wc"), false}, {dlv(15, "wd"), false}, {dlv(19, "wc"), true}} {
		if _, ok := due[c.id]; ok != c.want {
			t.Errorf("delivery %s filed: %v, want %v", c.id, ok, c.want)
		}
	}
	counts := map[string]DueCount{}
	for id, v := range together[string(bucketDueCounts)] {
		counts[id] = decodeDueCount([]byte(v))
	}
	// 20 messages to each webhook; wa lost one to success, wd one to
	// failure, wc its first 12 to the deletion; wb's retry stays owed.
	want := map[string]DueCount{"wa": {Pending: 19}, "wb": {Pending: 19, Retries: 1}, "wc": {Pending: 8}, "wd": {Pending: 19}}
	if !maps.Equal(counts, want) {
		t.Errorf("due counts %v, want %v", counts, want)
	}
}

func streamOf(ev eventstore.Event) string {
	switch e := ev.(type) {
	case domain.MessagePublished:
		return "message-" + e.MessageID
	case domain.DeliverySucceeded:
		return domain.DeliveryStream(e.DeliveryID)
	case domain.DeliveryFailed:
		return domain.DeliveryStream(e.DeliveryID)
	case domain.DeliveryRetryScheduled:
		return domain.DeliveryStream(e.DeliveryID)
	case domain.DeliveryScheduled:
		return domain.DeliveryStream(e.DeliveryID)
	}
	return "webhook-x"
}

func dumpBuckets(t *testing.T, db *bbolt.DB, buckets []string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	err := db.View(func(tx *bbolt.Tx) error {
		for _, name := range buckets {
			m := map[string]string{}
			if err := tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
				m[string(k)] = string(v)
				return nil
			}); err != nil {
				return err
			}
			out[name] = m
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
