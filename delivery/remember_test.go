package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
)

// First attempts build their bodies from the messages the read models
// just applied (Dispatcher.Remember, wired to the runner's decoder), not
// by reading each message back from the store; and the bodies are the
// messages' own.
func TestFirstAttemptsDoNotReadTheirMessages(t *testing.T) {
	var cs *countingStore
	env := testenv.NewWith(t, testenv.Options{WrapStore: func(s eventstore.Store) eventstore.Store {
		cs = &countingStore{Store: s}
		return cs
	}})
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	env.StartDispatcher(t)
	const n = 20
	events := make([]app.PublishInput, n)
	for i := range events {
		events[i] = app.PublishInput{Account: "acme", Type: "email.open", Data: []byte(`{"n":1}`)}
	}
	res, err := env.App.Publish(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	got := recv.WaitFor(t, n, 30*time.Second)
	if reads := cs.messages.Load(); reads != 0 {
		t.Errorf("%d message reads for %d first attempts, want 0", reads, n)
	}
	sent := map[string]bool{}
	for _, r := range got {
		sent[r.Header.Get("webhook-id")] = true
	}
	for _, r := range res {
		if !sent[r.MessageID] {
			t.Errorf("message %s not delivered under its own id", r.MessageID)
		}
	}
}
