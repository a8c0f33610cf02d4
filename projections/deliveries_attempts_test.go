package projections_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
)

// attemptsFold folds delivery events straight into a fresh read model
// through the Deliveries projection's own Apply and FlushBatch, one batch
// per fold call, as the runner does.
type attemptsFold struct {
	t   *testing.T
	db  *bbolt.DB
	p   *deliveries.Deliveries
	pos eventstore.Position
	rev map[string]uint64
}

func newAttemptsFold(t *testing.T) *attemptsFold {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "readmodel.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &attemptsFold{t: t, db: db, p: &deliveries.Deliveries{}, rev: map[string]uint64{}}
	f.update(func(tx *bbolt.Tx) error {
		for _, name := range append(f.p.Buckets(), deliveries.AttemptStats{}.Buckets()...) {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

func (f *attemptsFold) update(fn func(*bbolt.Tx) error) {
	f.t.Helper()
	if err := f.db.Update(fn); err != nil {
		f.t.Fatal(err)
	}
}

func (f *attemptsFold) fold(id string, events ...eventstore.Event) {
	f.t.Helper()
	f.update(func(tx *bbolt.Tx) error {
		f.p.BeginBatch()
		for _, ev := range events {
			f.pos++
			rec := eventstore.RecordedEvent{Stream: domain.DeliveryStream(id), Revision: f.rev[id], Position: f.pos, Type: ev.EventType()}
			f.rev[id]++
			if _, err := f.p.Apply(tx, rec, ev); err != nil {
				return err
			}
		}
		return f.p.FlushBatch(tx)
	})
}

// rows counts delivery id's rows in the attempt bucket.
func (f *attemptsFold) rows(id string) int {
	n := 0
	f.update(func(tx *bbolt.Tx) error {
		prefix := append([]byte(id), 0)
		c := tx.Bucket([]byte("delivery_attempts")).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n
}

var attemptsT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func scheduled(id string) domain.DeliveryScheduled {
	return domain.DeliveryScheduled{DeliveryID: id, MessageID: "msg_" + id, WebhookID: "wh_a", AccountID: "acme", MessageType: "email.bounce", ScheduledAt: attemptsT0, At: attemptsT0}
}

func failedAttempt(id string, n int) []eventstore.Event {
	at := attemptsT0.Add(time.Duration(n) * time.Minute)
	return []eventstore.Event{
		domain.DeliveryAttempted{DeliveryID: id, WebhookID: "wh_a", Attempt: n, At: at, StatusCode: 503, LatencyMs: int64(n), ResponseExcerpt: "busy", RequestHeaders: map[string]string{"webhook-id": "msg_" + id}},
		domain.DeliveryRetryScheduled{DeliveryID: id, WebhookID: "wh_a", Attempt: n + 1, DueAt: at.Add(time.Minute), At: at},
	}
}

// TestAttemptLogKeepsTheNewest records more attempts than the read model
// keeps, some in one batch and some one batch each, and checks that the
// delivery reads back the newest maxKeptAttempts in order, that no more
// rows than that are stored, and that the stored summary carries none.
func TestAttemptLogKeepsTheNewest(t *testing.T) {
	const total, kept = 230, 200
	f := newAttemptsFold(t)
	f.fold("d1", scheduled("d1"))
	var batch []eventstore.Event
	for n := 1; n <= 20; n++ {
		batch = append(batch, failedAttempt("d1", n)...)
	}
	f.fold("d1", batch...)
	for n := 21; n <= total; n++ {
		f.fold("d1", failedAttempt("d1", n)...)
	}
	v, ok, err := deliveries.GetDelivery(f.db, "acme", "d1")
	if err != nil || !ok {
		t.Fatalf("found=%v err=%v", ok, err)
	}
	if v.DeliveryState.Attempts != total || len(v.Attempts) != kept {
		t.Fatalf("count=%d log=%d, want %d and %d", v.DeliveryState.Attempts, len(v.Attempts), total, kept)
	}
	for i, a := range v.Attempts {
		if want := total - kept + 1 + i; a.Number != want || a.StatusCode != 503 || a.LatencyMs != int64(want) || a.RequestHeaders["webhook-id"] != "msg_d1" {
			t.Fatalf("attempt %d = %+v, want number %d", i, a, want)
		}
	}
	if n := f.rows("d1"); n != kept {
		t.Errorf("%d attempt rows stored, want %d", n, kept)
	}
	f.update(func(tx *bbolt.Tx) error {
		if raw := tx.Bucket([]byte("deliveries")).Get([]byte("d1")); bytes.Contains(raw, []byte("attemptLog")) {
			t.Errorf("the stored summary carries the attempt log: %s", raw)
		}
		return nil
	})
	page, err := deliveries.ListDeliveries(f.db, "acme", "wh_a", deliveries.DeliveryFilter{}, 10, "")
	if err != nil || len(page.Deliveries) != 1 || len(page.Deliveries[0].Attempts) != kept {
		t.Fatalf("listing: err=%v page=%d", err, len(page.Deliveries))
	}
}

// TestViewWithInlineAttemptsStillReads stores a delivery the way the read
// model did before attempts had rows of their own (the log inline in the
// view, written by encoding/json), reads it back, then records another
// attempt: the old attempts and the new one read back in order, and the
// log has moved to rows.
func TestViewWithInlineAttemptsStillReads(t *testing.T) {
	f := newAttemptsFold(t)
	f.fold("d1", scheduled("d1"))
	f.fold("d1", append(failedAttempt("d1", 1), failedAttempt("d1", 2)...)...)
	// Rewrite the stored view in the old layout.
	f.update(func(tx *bbolt.Tx) error {
		var v deliveries.DeliveryView
		if err := json.Unmarshal(tx.Bucket([]byte("deliveries")).Get([]byte("d1")), &v); err != nil {
			return err
		}
		for n := 1; n <= 2; n++ {
			ev := failedAttempt("d1", n)[0].(domain.DeliveryAttempted)
			v.Attempts = append(v.Attempts, deliveries.AttemptView{Number: n, At: ev.At, StatusCode: ev.StatusCode, LatencyMs: ev.LatencyMs, ResponseExcerpt: "old layout", RequestHeaders: ev.RequestHeaders})
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte("deliveries")).Put([]byte("d1"), raw); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("delivery_attempts"))
	})
	f.update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte("delivery_attempts"))
		return err
	})
	excerpts := func() []string {
		t.Helper()
		v, ok, err := deliveries.GetDelivery(f.db, "acme", "d1")
		if err != nil || !ok {
			t.Fatalf("found=%v err=%v", ok, err)
		}
		var out []string
		for i, a := range v.Attempts {
			if a.Number != i+1 {
				t.Fatalf("attempt %d has number %d", i, a.Number)
			}
			out = append(out, a.ResponseExcerpt)
		}
		return out
	}
	if got := excerpts(); len(got) != 2 || got[0] != "old layout" {
		t.Fatalf("old layout reads %v", got)
	}
	f.fold("d1", failedAttempt("d1", 3)...)
	if got := excerpts(); len(got) != 3 || got[0] != "old layout" || got[1] != "old layout" || got[2] != "busy" {
		t.Fatalf("after a new attempt: %v", got)
	}
	if n := f.rows("d1"); n != 3 {
		t.Errorf("%d attempt rows after the move, want 3", n)
	}
}

// TestPruneDropsAttemptRows checks that retention removes a delivery's
// attempt rows with its summary.
func TestPruneDropsAttemptRows(t *testing.T) {
	f := newAttemptsFold(t)
	f.fold("d1", scheduled("d1"))
	f.fold("d1", failedAttempt("d1", 1)...)
	if f.rows("d1") != 1 {
		t.Fatal("no attempt row to prune")
	}
	r := projections.Retention{Ages: map[string]time.Duration{"delivery": time.Hour, "message": time.Hour}}
	f.update(func(tx *bbolt.Tx) error {
		n, err := f.p.Prune(tx, r, attemptsT0.Add(48*time.Hour), 100)
		if err == nil && n != 1 {
			t.Errorf("pruned %d deliveries, want 1", n)
		}
		return err
	})
	if n := f.rows("d1"); n != 0 {
		t.Errorf("%d attempt rows left after pruning", n)
	}
	if _, ok, _ := deliveries.GetDelivery(f.db, "acme", "d1"); ok {
		t.Error("pruned delivery still found")
	}
}
