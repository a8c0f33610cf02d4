package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// fixture is a running core with a webhook of account acme and principals
// of acme and of another account.
type fixture struct {
	env         *testenv.Env
	acme, other app.Principal
	hook        webhooks.WebhookView
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := testenv.New(t)
	acme, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	other, _ := env.AccountKey(t, "other", domain.ScopeAccount)
	hook, err := env.App.CreateWebhook(context.Background(), acme, domain.CreateWebhook{
		Name: "bounces", URL: "https://example.com/hooks/in", EventTypes: []string{"email.bounce"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{env: env, acme: acme, other: other, hook: hook}
}

// deliver decides and appends cmds on delivery id for acme's webhook, and
// waits until the read model has them.
func (f *fixture) deliver(t *testing.T, id string, cmds ...domain.DeliveryCommand) {
	t.Helper()
	ctx := context.Background()
	var state domain.DeliveryState
	var last eventstore.Position
	for _, cmd := range cmds {
		events, err := domain.DecideDelivery(state, cmd, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		data := make([]eventstore.EventData, len(events))
		for i, e := range events {
			if data[i], err = f.env.Codec.Encode(e); err != nil {
				t.Fatal(err)
			}
		}
		res, err := f.env.Store.Append(ctx, domain.DeliveryStream(id), state.ExpectedRevision(), data...)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			state = domain.EvolveDelivery(state, e)
		}
		last = res.Position
	}
	if err := f.env.Runner.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) schedule(id string) domain.ScheduleDelivery {
	return domain.ScheduleDelivery{DeliveryID: id, MessageID: "msg_" + id, WebhookID: f.hook.ID, AccountID: "acme", EventType: "email.bounce"}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := domain.ErrorCode(err); got != code {
		t.Errorf("%s: %v (code %q), want %s", what, err, got, code)
	}
}

// TestTenancy: every command and query on another account's webhook or
// delivery answers exactly as for one that does not exist, and changes
// nothing.
func TestTenancy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.deliver(t, "d1", f.schedule("d1"), domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 500}, Rand: 0.5})
	id, o := f.hook.ID, f.other
	name := "taken over"
	for what, err := range map[string]error{
		"Webhook": func() error { _, err := f.env.App.Webhook(ctx, o, id); return err }(),
		"Update": func() error {
			_, err := f.env.App.UpdateWebhook(ctx, o, id, nil, domain.UpdateWebhook{Name: &name})
			return err
		}(),
		"Pause":     func() error { _, err := f.env.App.PauseWebhook(ctx, o, id); return err }(),
		"Resume":    func() error { _, err := f.env.App.ResumeWebhook(ctx, o, id); return err }(),
		"Rotate":    func() error { _, err := f.env.App.RotateWebhookSecret(ctx, o, id, 0); return err }(),
		"Delete":    f.env.App.DeleteWebhook(ctx, o, id),
		"Delivery":  func() error { _, err := f.env.App.Delivery(ctx, o, "d1"); return err }(),
		"Redeliver": f.env.App.Redeliver(ctx, o, "d1"),
		"Recover":   func() error { _, err := f.env.App.RecoverDeliveries(ctx, o, id, time.Time{}); return err }(),
		"Export":    f.env.App.ExportDeliveries(ctx, o, id, app.ExportQuery{}, func(app.ExportedDelivery) error { return nil }),
		"MissingHook": func() error {
			_, err := f.env.App.Webhook(ctx, f.acme, "00000000-0000-0000-0000-000000000000")
			return err
		}(),
	} {
		wantCode(t, what, err, domain.ENOTFOUND)
	}
	if page, err := f.env.App.Webhooks(ctx, o, webhooks.WebhookFilter{}, 10, ""); err != nil || len(page.Webhooks) != 0 {
		t.Errorf("other account lists %d webhooks: %v", len(page.Webhooks), err)
	}
	if _, ok, err := f.env.App.History(ctx, o, domain.EncodeGlobalID("Webhook", id), 10, ""); ok || err != nil {
		t.Errorf("other account reads the webhook's history: ok=%v err=%v", ok, err)
	}
	if _, ok, err := f.env.App.History(ctx, o, domain.EncodeGlobalID("Account", "acme"), 10, ""); ok || err != nil {
		t.Errorf("other account reads acme's account history: ok=%v err=%v", ok, err)
	}
	v, err := f.env.App.Webhook(ctx, f.acme, id)
	if err != nil || v.Name != "bounces" || v.Status != domain.WebhookStatusActive || v.Revision != f.hook.Revision {
		t.Fatalf("acme's webhook after the other account's attempts: %+v, %v", v, err)
	}
}

// TestHistoryOfDeletedWebhook: deleting a webhook ends it, not its audit
// trail, which its account still pages through.
func TestHistoryOfDeletedWebhook(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.env.App.DeleteWebhook(ctx, f.acme, f.hook.ID); err != nil {
		t.Fatal(err)
	}
	gid := domain.EncodeGlobalID("Webhook", f.hook.ID)
	page, ok, err := f.env.App.History(ctx, f.acme, gid, 1, "")
	if err != nil || !ok || len(page.Entries) != 1 || !page.HasNextPage || page.Entries[0].Type != "webhook.created.v1" {
		t.Fatalf("first page: ok=%v err=%v %+v", ok, err, page)
	}
	page, ok, err = f.env.App.History(ctx, f.acme, gid, 10, page.Cursors[0])
	if err != nil || !ok || len(page.Entries) != 1 || page.Entries[0].Type != "webhook.deleted.v1" {
		t.Fatalf("second page: ok=%v err=%v %+v", ok, err, page)
	}
}

// TestPublishIdempotency: a repeated event id within the window returns
// the original message and records nothing new; the same id from another
// account, or after the window, is a new message.
func TestPublishIdempotency(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env.App.Now = func() time.Time { return now }
	env.App.IdempotencyWindow = time.Hour
	publish := func(account, id string) app.PublishResult {
		t.Helper()
		res, err := env.App.Publish(ctx, []app.PublishInput{{ID: id, Account: account, Type: "email.bounce", Data: json.RawMessage(`{"n":1}`)}})
		if err != nil || len(res) != 1 || res[0].Err != nil {
			t.Fatalf("publish %s/%s: %v %+v", account, id, err, res)
		}
		return res[0]
	}
	first := publish("acme", "evt-1")
	if first.Duplicate || first.MessageID == "" {
		t.Fatalf("first publish: %+v", first)
	}
	now = now.Add(30 * time.Minute)
	if again := publish("acme", "evt-1"); !again.Duplicate || again.MessageID != first.MessageID {
		t.Errorf("repeat within the window: %+v, want duplicate of %s", again, first.MessageID)
	}
	if elsewhere := publish("other", "evt-1"); elsewhere.Duplicate || elsewhere.MessageID == first.MessageID {
		t.Errorf("same id from another account: %+v", elsewhere)
	}
	now = now.Add(2 * time.Hour)
	if later := publish("acme", "evt-1"); later.Duplicate || later.MessageID == first.MessageID {
		t.Errorf("repeat after the window: %+v, want a new message", later)
	}
	if a, b := publish("acme", ""), publish("acme", ""); a.Duplicate || b.Duplicate || a.MessageID == b.MessageID {
		t.Errorf("events without an id: %+v %+v, want two messages", a, b)
	}
}

// TestRedeliver: only a finished delivery can be sent again; redelivery
// makes it pending with a fresh schedule, and a second request while it is
// pending is refused rather than doubling it.
func TestRedeliver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.deliver(t, "failed", f.schedule("failed"), domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 410}})
	f.deliver(t, "pending", f.schedule("pending"))
	f.deliver(t, "ok", f.schedule("ok"), domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 200}})

	wantCode(t, "redeliver pending", f.env.App.Redeliver(ctx, f.acme, "pending"), domain.EINVALID)
	wantCode(t, "redeliver missing", f.env.App.Redeliver(ctx, f.acme, "nope"), domain.ENOTFOUND)
	for _, id := range []string{"failed", "ok"} {
		if err := f.env.App.Redeliver(ctx, f.acme, id); err != nil {
			t.Fatalf("redeliver %s: %v", id, err)
		}
		d, err := f.env.App.Delivery(ctx, f.acme, id)
		if err != nil || d.Status != domain.DeliveryStatusPending {
			t.Fatalf("%s after redeliver: %s, %v", id, d.Status, err)
		}
		wantCode(t, "redeliver "+id+" twice", f.env.App.Redeliver(ctx, f.acme, id), domain.EINVALID)
	}
}

// TestRecoverDeliveries sends again only the failed deliveries created
// since the given time.
func TestRecoverDeliveries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	gone := domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 410}}
	f.deliver(t, "old", f.schedule("old"), gone)
	since := time.Now()
	f.deliver(t, "new", f.schedule("new"), gone)
	f.deliver(t, "fine", f.schedule("fine"), domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 200}})
	n, err := f.env.App.RecoverDeliveries(ctx, f.acme, f.hook.ID, since)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d: %v", n, err)
	}
	for want, id := range map[domain.DeliveryStatus]string{domain.DeliveryStatusFailed: "old", domain.DeliveryStatusSucceeded: "fine"} {
		if d, err := f.env.App.Delivery(ctx, f.acme, id); err != nil || d.Status != want {
			t.Errorf("%s: %s, %v; want %s", id, d.Status, err, want)
		}
	}
	waitStatus(t, f, "new", domain.DeliveryStatusPending)
}

// waitStatus polls the read model until delivery id has status want.
func waitStatus(t *testing.T, f *fixture, id string, want domain.DeliveryStatus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := f.env.App.Delivery(context.Background(), f.acme, id)
		if err == nil && d.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s (%v), want %s", id, d.Status, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
