package delivery_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// readDelivery folds a delivery's whole stream, however long.
func readDelivery(t *testing.T, env *testenv.Env, id string) (domain.DeliveryState, aggregate.Result) {
	t.Helper()
	s, res, err := aggregate.Load(context.Background(), env.Store, env.Codec, domain.DeliveryStream(id), domain.EvolveDelivery)
	if err != nil {
		t.Fatal(err)
	}
	return s, res
}

// oneOwed starts a core with one verified webhook and one delivery owed
// to it, with the dispatcher not yet running.
func oneOwed(t *testing.T) (*testenv.Env, *testenv.Receiver, webhooks.WebhookView, due.DueEntry) {
	t.Helper()
	env := testenv.New(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	return env, recv, hook, owedDelivery(t, env, hook, "email.open")
}

// owedDelivery publishes one message to hook with the dispatcher not yet
// running and returns the delivery the due index then owes.
func owedDelivery(t *testing.T, env *testenv.Env, hook webhooks.WebhookView, eventType string) due.DueEntry {
	t.Helper()
	res := publish(t, env, app.PublishInput{Account: hook.AccountID, Type: eventType, Data: json.RawMessage(`{}`)})
	id := domain.DeliveryIDFor(res[0].MessageID, hook.ID)
	var owed due.DueEntry
	waitFor(t, func() bool {
		entries, _, err := due.DueFor(env.ReadDB, hook.ID, time.Now().Add(time.Hour), 10, nil)
		for _, e := range entries {
			if e.DeliveryID == id {
				owed = e
			}
		}
		return err == nil && owed.DeliveryID == id
	})
	return owed
}

// appendHistory writes events to a delivery's stream as another instance
// would, in chunks, and waits until the read models have applied them.
func appendHistory(t *testing.T, env *testenv.Env, id string, events []eventstore.Event) {
	t.Helper()
	ctx := context.Background()
	stream := domain.DeliveryStream(id)
	expected := eventstore.NoStream
	var last eventstore.AppendResult
	for len(events) > 0 {
		n := min(len(events), 1000)
		var err error
		if last, err = aggregate.Append(ctx, env.Store, env.Codec, stream, expected, events[:n]...); err != nil {
			t.Fatal(err)
		}
		expected, events = eventstore.Exact(last.NextRevision), events[n:]
	}
	if err := env.Runner.WaitFor(ctx, last.Position); err != nil {
		t.Fatal(err)
	}
}

func scheduledFor(e due.DueEntry, at time.Time) domain.DeliveryScheduled {
	return domain.DeliveryScheduled{
		DeliveryID: e.DeliveryID, MessageID: e.MessageID, WebhookID: e.WebhookID, AccountID: e.AccountID,
		MessageType: e.EventType, ScheduledAt: at, At: at,
	}
}

// A delivery whose stream is longer than one read (here 10,001 events,
// 5,000 failed attempts) is folded whole: its next attempt is sent once
// and recorded, not taken for another instance's win and sent again.
func TestLongDeliveryStreamIsRecordedOnce(t *testing.T) {
	env, recv, hook, owed := oneOwed(t)

	past := time.Now().UTC().Add(-time.Hour)
	history := []eventstore.Event{scheduledFor(owed, past)}
	for i := range 5000 {
		history = append(history,
			domain.DeliveryAttempted{DeliveryID: owed.DeliveryID, WebhookID: hook.ID, Attempt: i + 1, StatusCode: 500, At: past},
			domain.DeliveryRetryScheduled{DeliveryID: owed.DeliveryID, WebhookID: hook.ID, Attempt: i + 2, DueAt: past, At: past})
	}
	appendHistory(t, env, owed.DeliveryID, history)
	env.StartDispatcher(t)

	waitFor(t, func() bool {
		s, _ := readDelivery(t, env, owed.DeliveryID)
		return s.Status == domain.DeliveryStatusSucceeded
	})
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 0 && env.Dispatcher.InFlight() == 0 })
	if n := len(recv.Received()); n != 1 {
		t.Fatalf("the receiver got %d requests, want 1", n)
	}
	s, res := readDelivery(t, env, owed.DeliveryID)
	// The old history's 10,001 events, then the new attempt's one.
	if res.Version != 10002 || s.Attempts != 5001 {
		t.Fatalf("stream has %d events and %d attempts, want 10002 and 5001", res.Version, s.Attempts)
	}
}

// logRecords is a slog handler that keeps the messages logged, so a test
// can wait for one instead of sleeping.
type logRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

func (l *logRecords) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}
