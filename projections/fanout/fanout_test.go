package fanout_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/due"
)

// TestFanOutFollowsTheDomainRule publishes one message over the real core
// and checks who it queued a delivery for, in the due index and in the
// deliveries listing: the account's verified webhooks subscribed to its
// type, paused and disabled ones included, and no other.
func TestFanOutFollowsTheDomainRule(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	recv := testenv.NewReceiver(t)
	acme, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	globex, _ := env.AccountKey(t, "globex", domain.ScopeAccount)
	active := env.VerifiedWebhook(t, acme, recv, "/active", "email.bounce").ID
	paused := env.VerifiedWebhook(t, acme, recv, "/paused", "email.bounce").ID
	disabled := env.VerifiedWebhook(t, acme, recv, "/disabled", "email.bounce", "email.open").ID
	deleted := env.VerifiedWebhook(t, acme, recv, "/deleted", "email.bounce").ID
	otherType := env.VerifiedWebhook(t, acme, recv, "/other-type", "email.open").ID
	otherAccount := env.VerifiedWebhook(t, globex, recv, "/globex", "email.bounce").ID
	unverified, err := env.App.CreateWebhook(ctx, acme, domain.CreateWebhook{Name: "unverified", URL: recv.URL + "/unverified", EventTypes: []string{"email.bounce"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.PauseWebhook(ctx, acme, paused); err != nil {
		t.Fatal(err)
	}
	if err := env.App.DisableWebhook(ctx, disabled, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := env.App.DeleteWebhook(ctx, acme, deleted); err != nil {
		t.Fatal(err)
	}
	res, err := env.App.Publish(ctx, []app.PublishInput{{Account: "acme", Type: "email.bounce", Data: json.RawMessage(`{}`)}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("publish: %v %v", err, res)
	}
	msg := res[0].MessageID

	queued := func(webhook string) bool {
		_, ok, err := deliveries.GetDelivery(env.ReadDB, "acme", domain.DeliveryIDFor(msg, webhook))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	deadline := time.Now().Add(10 * time.Second)
	for !queued(active) { // the whole fan-out is applied in one transaction
		if time.Now().After(deadline) {
			t.Fatal("the message was not fanned out to an active verified webhook")
		}
		time.Sleep(5 * time.Millisecond)
	}
	counts, err := due.DueCounts(env.ReadDB)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		id   string
		want bool
	}{
		"active": {active, true}, "paused": {paused, true}, "disabled": {disabled, true},
		"deleted": {deleted, false}, "other type": {otherType, false}, "unverified": {unverified.ID, false},
		"other account": {otherAccount, false},
	} {
		if got := queued(tc.id); got != tc.want {
			t.Errorf("%s webhook: listed as owed %v, want %v", name, got, tc.want)
		}
		if got := counts[tc.id].Pending == 1; got != tc.want {
			t.Errorf("%s webhook: %d first attempts due, want owed %v", name, counts[tc.id].Pending, tc.want)
		}
	}
}
