package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
)

// An ordered line moves on after a head whose record reached the read
// models more than a second after its attempt finished, outlasting the
// dispatcher's webhook cache. The record must wake the lane
// either way, or the line stalls for good behind a head that succeeded.
func TestOrderedLineMovesOnAfterASlowHead(t *testing.T) {
	env := testenv.New(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	ordering := domain.Ordering{Mode: domain.OrderingPerWebhook}
	if _, err := env.App.UpdateWebhook(context.Background(), p, hook.ID, nil, domain.UpdateWebhook{Ordering: &ordering}); err != nil {
		t.Fatal(err)
	}
	const messages = 3
	for i := range messages {
		publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	recv.Hold()
	env.StartDispatcher(t)
	recv.WaitFor(t, 1, 10*time.Second)

	// A write transaction on the read models keeps the projections from
	// applying the head's record until well after the attempt finished:
	// longer than the dispatcher caches a webhook (one second), as under
	// heavy load.
	locked, unlock := make(chan struct{}), make(chan struct{})
	go func() {
		_ = env.ReadDB.Update(func(*bbolt.Tx) error { close(locked); <-unlock; return nil })
	}()
	<-locked
	recv.Release()
	waitFor(t, func() bool { return env.Dispatcher.InFlight() == 0 && recv.Completed() == 1 })
	time.Sleep(1200 * time.Millisecond)
	close(unlock)

	got := recv.WaitFor(t, messages, 20*time.Second)
	for i, r := range got {
		var body struct{ Data struct{ N int } }
		if err := json.Unmarshal(r.Body, &body); err != nil || body.Data.N != i {
			t.Fatalf("request %d carried %s; want message %d", i, r.Body, i)
		}
	}
}
