package delivery_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/readmodels"
)

// staleCopy copies the read models as they are now, for a dispatcher whose
// due index lags behind the log (another instance's, or one replayed).
func staleCopy(t *testing.T, db *bbolt.DB) *bbolt.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stale.db")
	if err := db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(path, 0o600) }); err != nil {
		t.Fatal(err)
	}
	stale, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stale.Close() })
	return stale
}

// A due entry the delivery's own stream contradicts is not an attempt:
// after another instance recorded the first attempt and scheduled the
// retry an hour later, a dispatcher whose index still lists the delivery
// as due now skips it instead of sending early, and sends it once due.
func TestStaleDueEntryIsNotSentEarly(t *testing.T) {
	env, recv, hook, owed := oneOwed(t)
	stale := staleCopy(t, env.ReadDB)

	now := time.Now().UTC()
	appendHistory(t, env, owed.DeliveryID, []eventstore.Event{
		scheduledFor(owed, owed.DueAt),
		domain.DeliveryAttempted{DeliveryID: owed.DeliveryID, WebhookID: hook.ID, Attempt: 1, StatusCode: 503, At: now},
		domain.DeliveryRetryScheduled{DeliveryID: owed.DeliveryID, WebhookID: hook.ID, Attempt: 2, DueAt: now.Add(time.Hour), At: now},
	})
	if entries, _, _ := due.DueFor(stale, hook.ID, now, 10, nil); len(entries) != 1 {
		t.Fatalf("the stale index owes %d attempts now, want 1", len(entries))
	}

	logs := &logRecords{}
	var skew atomic.Int64
	d := delivery.NewDispatcher()
	d.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(skew.Load())) }
	d.Store, d.Codec, d.Progress = env.Store, env.Codec, env.Runner
	d.Due, d.Webhooks = due.Index{DB: stale}, readmodels.Bolt{DB: stale}
	d.Sender, d.Logger = delivery.NewSender(env.Guard, 5*time.Second), slog.New(logs)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	waitFor(t, func() bool { return logs.count("dispatcher: attempt not yet due; skipped") == 1 && d.InFlight() == 0 })
	if n := len(recv.Received()); n != 0 {
		t.Fatalf("the receiver got %d requests for an attempt due in an hour", n)
	}
	s, res := readDelivery(t, env, owed.DeliveryID)
	if res.Version != 3 || s.Attempts != 1 {
		t.Fatalf("stream has %d events and %d attempts, want 3 and 1", res.Version, s.Attempts)
	}

	// An hour on, the skipped attempt is due and goes out, although
	// nothing about the delivery or its webhook changed: the end of the
	// skip's hold alone brings its lane up again.
	skew.Store(int64(time.Hour + time.Second))
	d.Notify(nil) // as the dispatcher's timer would, an hour on
	recv.WaitFor(t, 1, 10*time.Second)
}
