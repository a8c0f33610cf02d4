package delivery_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/due"
)

// countingStore counts the delivery-stream events ReadStream returns, and
// the message-stream reads.
type countingStore struct {
	eventstore.Store
	read     atomic.Int64
	messages atomic.Int64
}

func (c *countingStore) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := c.Store.ReadStream(ctx, stream, from, limit)
	if strings.HasPrefix(stream, domain.DeliveryStreamCategory+"-") {
		c.read.Add(int64(len(recs)))
	}
	if _, ok := domain.MessageIDFromStream(stream); ok {
		c.messages.Add(1)
	}
	return recs, err
}

// A retry starts from the snapshot its due entry carries and reads only
// what the stream gained since: after 1,000 failed attempts the next one
// reads none of them, is sent once and recorded.
func TestRetryReadsOnlyWhatFollowsItsSnapshot(t *testing.T) {
	var cs *countingStore
	env := testenv.NewWith(t, testenv.Options{WrapStore: func(s eventstore.Store) eventstore.Store {
		cs = &countingStore{Store: s}
		return cs
	}})
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	owed := owedDelivery(t, env, hook, "email.open")

	past := time.Now().UTC().Add(-time.Hour)
	history := []eventstore.Event{scheduledFor(owed, past)}
	for i := range 1000 {
		history = append(history,
			domain.DeliveryAttempted{DeliveryID: owed.DeliveryID, WebhookID: hook.ID, Attempt: i + 1, StatusCode: 500, At: past},
			domain.DeliveryRetryScheduled{DeliveryID: owed.DeliveryID, WebhookID: hook.ID, Attempt: i + 2, DueAt: past, At: past})
	}
	appendHistory(t, env, owed.DeliveryID, history)
	entries, _, err := due.DueFor(env.ReadDB, hook.ID, time.Now(), 10, nil)
	if err != nil || len(entries) != 1 || entries[0].Snapshot == nil || entries[0].Snapshot.State.Version != 2001 {
		t.Fatalf("due entries %+v, %v; want one carrying the snapshot at version 2001", entries, err)
	}
	cs.read.Store(0)
	env.StartDispatcher(t)
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 0 && env.Dispatcher.InFlight() == 0 })
	if n := cs.read.Load(); n != 0 {
		t.Fatalf("the attempt read %d events of the delivery's stream, want 0", n)
	}
	if n := len(recv.Received()); n != 1 {
		t.Fatalf("the receiver got %d requests, want 1", n)
	}
	if s, res := readDelivery(t, env, owed.DeliveryID); s.Status != domain.DeliveryStatusSucceeded || res.Version != 2002 {
		t.Fatalf("delivery %s with %d events, want succeeded with 2002 (the new attempt is one event)", s.Status, res.Version)
	}
}
