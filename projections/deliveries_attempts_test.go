package projections_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
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

// appendEvents appends events to delivery id's stream as they are, for
// the projections to apply.
func appendEvents(t *testing.T, env *testenv.Env, id string, events ...eventstore.Event) eventstore.Position {
	t.Helper()
	res, err := env.Store.Append(context.Background(), domain.DeliveryStream(id), eventstore.Any, encodeEvents(t, env, events)...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// encodeEvents encodes events for an append.
func encodeEvents(t *testing.T, env *testenv.Env, events []eventstore.Event) []eventstore.EventData {
	t.Helper()
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		var err error
		if data[i], err = env.Codec.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// syncTo waits until the projections have applied pos.
func syncTo(t *testing.T, env *testenv.Env, pos eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Runner.WaitFor(ctx, pos); err != nil {
		t.Fatal(err)
	}
}

// storedSummary is delivery id's value in the read model, as stored.
func storedSummary(t *testing.T, db *bbolt.DB, id string) []byte {
	t.Helper()
	var raw []byte
	if err := db.View(func(tx *bbolt.Tx) error {
		raw = bytes.Clone(tx.Bucket([]byte("deliveries")).Get([]byte(id)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestAttemptLogKeepsTheNewest records more attempts than a delivery's log
// shows, some in one append and some one append each, and checks that the
// delivery reads back the newest maxKeptAttempts in order, from its
// stream, in the detail and in the listing, while the read model stores
// no attempt at all: neither rows nor a log in the summary.
func TestAttemptLogKeepsTheNewest(t *testing.T) {
	const total, kept = 230, 200
	env := testenv.New(t)
	appendEvents(t, env, "d1", scheduled("d1"))
	var batch []eventstore.Event
	for n := 1; n <= 20; n++ {
		batch = append(batch, failedAttempt("d1", n)...)
	}
	pos := appendEvents(t, env, "d1", batch...)
	for n := 21; n <= total; n++ {
		pos = appendEvents(t, env, "d1", failedAttempt("d1", n)...)
	}
	syncTo(t, env, pos)
	v, ok, err := delivery(env, "acme", "d1")
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
	if raw := storedSummary(t, env.ReadDB, "d1"); bytes.Contains(raw, []byte("attemptLog")) {
		t.Errorf("the stored summary carries the attempt log: %s", raw)
	}
	if n := attemptRows(t, env.ReadDB, "d1"); n != 0 {
		t.Errorf("%d attempt rows stored, want none", n)
	}
	rm := readModel(env)
	page, err := rm.Deliveries("acme", "wh_a", deliveries.DeliveryFilter{}, 10, "")
	if err != nil || len(page.Deliveries) != 1 {
		t.Fatalf("listing: err=%v page=%d", err, len(page.Deliveries))
	}
	if n := len(page.Deliveries[0].Attempts); n != 0 {
		t.Errorf("the listing read %d attempts; it reads summaries only", n)
	}
	if log, err := rm.AttemptLog(page.Deliveries[0]); err != nil || len(log) != kept {
		t.Fatalf("attempt log of the listed delivery: %d, %v", len(log), err)
	}
}

// attemptRows counts delivery id's rows in the attempt bucket earlier
// versions wrote.
func attemptRows(t *testing.T, db *bbolt.DB, id string) int {
	t.Helper()
	n := 0
	if err := db.View(func(tx *bbolt.Tx) error {
		prefix := append([]byte(id), 0)
		c := tx.Bucket([]byte("delivery_attempts")).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestViewWithInlineAttemptsStillReads stores deliveries the way the read
// model did before attempts had rows of their own (the log inline in the
// view, written by encoding/json). One whose stream the log still holds
// reads its attempts from the stream, and the next attempt writes its
// summary back without the inline log; one whose stream is gone reads
// the inline log.
func TestViewWithInlineAttemptsStillReads(t *testing.T) {
	env := testenv.New(t)
	appendEvents(t, env, "d1", scheduled("d1"))
	syncTo(t, env, appendEvents(t, env, "d1", append(failedAttempt("d1", 1), failedAttempt("d1", 2)...)...))
	// Rewrite the stored view in the old layout, and store a second one
	// like it whose stream the log does not hold.
	err := env.ReadDB.Update(func(tx *bbolt.Tx) error {
		v, err := deliveries.DecodeSummary(tx.Bucket([]byte("deliveries")).Get([]byte("d1")))
		if err != nil {
			return err
		}
		for n := 1; n <= 2; n++ {
			ev := failedAttempt("d1", n)[0].(domain.DeliveryAttempted)
			v.Attempts = append(v.Attempts, deliveries.AttemptView{Number: n, At: ev.At, StatusCode: ev.StatusCode, LatencyMs: ev.LatencyMs, ResponseExcerpt: "old layout", RequestHeaders: ev.RequestHeaders})
		}
		for _, id := range []string{"d1", "gone"} {
			v.ID = id
			raw, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := tx.Bucket([]byte("deliveries")).Put([]byte(id), raw); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	excerpts := func(id string) []string {
		t.Helper()
		v, ok, err := delivery(env, "acme", id)
		if err != nil || !ok {
			t.Fatalf("%s: found=%v err=%v", id, ok, err)
		}
		var out []string
		for i, a := range v.Attempts {
			if a.Number != i+1 {
				t.Fatalf("%s: attempt %d has number %d", id, i, a.Number)
			}
			out = append(out, a.ResponseExcerpt)
		}
		return out
	}
	if got := excerpts("d1"); !slices.Equal(got, []string{"busy", "busy"}) {
		t.Fatalf("old layout with its stream reads %v", got)
	}
	if got := excerpts("gone"); !slices.Equal(got, []string{"old layout", "old layout"}) {
		t.Fatalf("old layout without its stream reads %v", got)
	}
	syncTo(t, env, appendEvents(t, env, "d1", failedAttempt("d1", 3)...))
	if got := excerpts("d1"); len(got) != 3 {
		t.Fatalf("after a new attempt: %v", got)
	}
	if raw := storedSummary(t, env.ReadDB, "d1"); bytes.Contains(raw, []byte("attemptLog")) {
		t.Errorf("the summary written back still carries the inline log: %s", raw)
	}
}

// TestPruneDropsAttemptRows checks that retention removes the attempt
// rows an earlier version stored with their delivery's summary.
func TestPruneDropsAttemptRows(t *testing.T) {
	f := newAttemptsFold(t)
	f.fold("d1", scheduled("d1"))
	f.fold("d1", failedAttempt("d1", 1)...)
	f.update(func(tx *bbolt.Tx) error { // as an earlier version wrote it
		key := binary.BigEndian.AppendUint64([]byte("d1\x00"), 1)
		return tx.Bucket([]byte("delivery_attempts")).Put(key, []byte(`{"number":1,"statusCode":503}`))
	})
	if attemptRows(t, f.db, "d1") != 1 {
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
	if n := attemptRows(t, f.db, "d1"); n != 0 {
		t.Errorf("%d attempt rows left after pruning", n)
	}
	if _, ok, _ := deliveries.GetDelivery(f.db, "acme", "d1"); ok {
		t.Error("pruned delivery still found")
	}
}
