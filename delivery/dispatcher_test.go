package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/signature"
)

func publish(t *testing.T, env *testenv.Env, events ...app.PublishInput) []app.PublishResult {
	t.Helper()
	res, err := env.App.Publish(context.Background(), events)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("event %d refused: %v", i, r.Err)
		}
	}
	return res
}

func TestPublishDeliversSignedPOST(t *testing.T) {
	env := testenv.New(t)
	env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/hooks/in", "email.bounce")
	other := testenv.NewReceiver(t)
	env.VerifiedWebhook(t, p, other, "/x", "email.open")

	res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.bounce", Data: json.RawMessage(`{"to":"a@example.com"}`)})
	got := recv.WaitFor(t, 1, 10*time.Second)

	var body delivery.Payload
	if err := json.Unmarshal(got[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.ID != res[0].MessageID || body.Type != "email.bounce" || body.Account != "acme" || string(body.Data) != `{"to":"a@example.com"}` {
		t.Fatalf("body = %+v", body)
	}
	if got[0].Header.Get("webhook-id") != res[0].MessageID {
		t.Fatalf("webhook-id = %q, want the message id", got[0].Header.Get("webhook-id"))
	}
	if err := signature.Verify(hook.Secret, got[0].Header, got[0].Body); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if n := len(other.Received()); n != 0 {
		t.Fatalf("webhook for another type received %d requests", n)
	}
	waitDelivery(t, env, domain.DeliveryIDFor(res[0].MessageID, hook.ID), domain.DeliveryStatusSucceeded)
}

func TestRetryAfterFailureThenSuccess(t *testing.T) {
	env := testenv.New(t)
	var skew atomic.Int64 // how far the dispatcher's clock runs ahead
	env.Dispatcher.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(skew.Load())) }
	env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	recv.Respond(http.StatusServiceUnavailable, 0)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)})
	id := domain.DeliveryIDFor(res[0].MessageID, hook.ID)
	recv.WaitFor(t, 1, 10*time.Second)
	waitDelivery(t, env, id, domain.DeliveryStatusRetrying)
	if n := len(recv.Received()); n != 1 {
		t.Fatalf("a retry went out before it was due: %d requests", n)
	}
	// Move the dispatcher's clock past the retry (5 s ±20%) and the
	// slow-down, instead of sleeping through them.
	recv.Respond(http.StatusOK, 0)
	skew.Store(int64(2 * time.Minute))
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hook.ID}})
	got := recv.WaitFor(t, 2, 10*time.Second)
	if got[0].Header.Get("webhook-id") != got[1].Header.Get("webhook-id") {
		t.Fatal("a retry carries a different webhook-id")
	}
	waitDelivery(t, env, id, domain.DeliveryStatusSucceeded)
}

func TestGoneDisablesWebhook(t *testing.T) {
	env := testenv.New(t)
	env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	recv.Respond(http.StatusGone, 0)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.click")
	ops := testenv.NewReceiver(t)
	env.VerifiedWebhook(t, p, ops, "/ops", "webhook.disabled")
	res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.click", Data: json.RawMessage(`{}`)})
	waitDelivery(t, env, domain.DeliveryIDFor(res[0].MessageID, hook.ID), domain.DeliveryStatusFailed)
	// The account's operational-events webhook hears of it.
	got := ops.WaitFor(t, 1, 10*time.Second)
	var body delivery.Payload
	if err := json.Unmarshal(got[0].Body, &body); err != nil || body.Type != "webhook.disabled" || !strings.Contains(string(body.Data), domain.EncodeGlobalID("Webhook", hook.ID)) || !strings.Contains(string(body.Data), "410") {
		t.Fatalf("operational event = %s (%v)", got[0].Body, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _ := env.App.Webhook(context.Background(), p, hook.ID)
		if v.Status == domain.WebhookStatusDisabled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook status = %s after a 410, want disabled", v.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIdempotentPublish(t *testing.T) {
	env := testenv.New(t)
	env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	env.VerifiedWebhook(t, p, recv, "/in", "email.delivery")
	in := app.PublishInput{ID: "evt-1", Account: "acme", Type: "email.delivery", Data: json.RawMessage(`{}`)}
	first := publish(t, env, in)
	second := publish(t, env, in)
	if first[0].MessageID != second[0].MessageID || first[0].Duplicate || !second[0].Duplicate {
		t.Fatalf("first %+v, second %+v", first[0], second[0])
	}
	recv.WaitFor(t, 1, 10*time.Second)
	other := publish(t, env, app.PublishInput{ID: "evt-1", Account: "other", Type: "email.delivery", Data: json.RawMessage(`{}`)})
	if other[0].MessageID == first[0].MessageID {
		t.Fatal("the same id from another account was treated as a duplicate")
	}
	// Nothing else may arrive: give a stray second delivery a chance.
	publish(t, env, app.PublishInput{Account: "acme", Type: "email.delivery", Data: json.RawMessage(`{"marker":1}`)})
	got := recv.WaitFor(t, 2, 10*time.Second)
	if len(got) != 2 || !json.Valid(got[1].Body) || string(got[1].Body) == string(got[0].Body) {
		t.Fatalf("receiver got %d requests", len(got))
	}
}

func TestPublishRefusesBadEvents(t *testing.T) {
	env := testenv.New(t)
	big := make([]byte, app.MaxEventDataSize+10)
	for i := range big {
		big[i] = ' '
	}
	big[0], big[len(big)-1] = '"', '"'
	res, err := env.App.Publish(context.Background(), []app.PublishInput{
		{Account: "acme", Type: "nope", Data: json.RawMessage(`{}`)},
		{Account: "acme", Type: "email.open", Data: json.RawMessage(`{`)},
		{Account: "acme", Type: "email.open", Data: json.RawMessage(big)},
		{Account: "", Type: "email.open", Data: json.RawMessage(`{}`)},
		{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{domain.EINVALID, domain.EINVALID, domain.ETOOLARGE, domain.EINVALID, ""}
	for i, r := range res {
		code := ""
		if r.Err != nil {
			code = r.Err.Code
		}
		if code != want[i] {
			t.Errorf("event %d: code %q, want %q", i, code, want[i])
		}
	}
	if res[4].MessageID == "" {
		t.Error("the valid event was not accepted")
	}
	many := make([]app.PublishInput, app.MaxPublishBatch+1)
	if _, err := env.App.Publish(context.Background(), many); domain.ErrorCode(err) != domain.ETOOLARGE {
		t.Fatalf("oversized batch: %v", err)
	}
}

func waitDelivery(t *testing.T, env *testenv.Env, id string, want domain.DeliveryStatus) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := loadDelivery(env, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %q, want %q", id, s.Status, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func loadDelivery(env *testenv.Env, id string) (domain.DeliveryState, error) {
	var s domain.DeliveryState
	recs, err := env.Store.ReadStream(context.Background(), domain.DeliveryStream(id), 0, 1000)
	if err != nil {
		return s, nil // not yet written
	}
	for _, r := range recs {
		ev, err := env.Codec.Decode(r)
		if err != nil {
			return s, err
		}
		s = domain.EvolveDelivery(s, ev)
	}
	return s, nil
}

func TestFailingFiveDaysDisablesWebhook(t *testing.T) {
	env := testenv.New(t)
	var skew atomic.Int64
	env.Dispatcher.Now = func() time.Time { return time.Now().UTC().Add(time.Duration(skew.Load())) }
	env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	recv.Respond(http.StatusInternalServerError, 0)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)})
	waitDelivery(t, env, domain.DeliveryIDFor(res[0].MessageID, hook.ID), domain.DeliveryStatusRetrying)
	waitFor(t, func() bool {
		h, _ := due.WebhookHealth(env.ReadDB, hook.ID)
		return !h.FailingSince.IsZero()
	})
	if v, _ := env.App.Webhook(context.Background(), p, hook.ID); v.Status != domain.WebhookStatusActive {
		t.Fatalf("one failure disabled the webhook: %s", v.Status)
	}
	// Five days and a minute later the retry fails too: every delivery has
	// been failing for five days.
	skew.Store(int64(5*24*time.Hour + time.Minute))
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hook.ID}})
	recv.WaitFor(t, 2, 10*time.Second)
	waitFor(t, func() bool {
		v, _ := env.App.Webhook(context.Background(), p, hook.ID)
		return v.Status == domain.WebhookStatusDisabled && strings.Contains(v.DisabledReason, "5 days")
	})
}

func TestRebuildSendsNothing(t *testing.T) {
	env := testenv.New(t)
	env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	env.VerifiedWebhook(t, p, recv, "/in", "email.delivery")
	for i := range 20 {
		publish(t, env, app.PublishInput{Account: "acme", Type: "email.delivery", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
	}
	recv.WaitFor(t, 20, 10*time.Second)
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 0 })

	// The log is idle (everything is applied), so rebuilding beside the
	// live runner is safe here; the CLI rebuilds with the server stopped.
	if err := env.Runner.Rebuild(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := due.CountDue(env.ReadDB); n != 0 {
		t.Fatalf("after a rebuild %d attempts are owed again", n)
	}
	// Anything the rebuild had made due again would go out before this
	// newer message on the same lane.
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: "any"}})
	publish(t, env, app.PublishInput{Account: "acme", Type: "email.delivery", Data: json.RawMessage(`{"n":"last"}`)})
	got := recv.WaitFor(t, 21, 10*time.Second)
	if len(got) != 21 || !strings.Contains(string(got[20].Body), `"last"`) {
		t.Fatalf("receiver got %d requests after the rebuild, want exactly the new one", len(got)-20)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A dead endpoint (connections refused) pauses its lane after the attempts
// already under way, instead of burning through its whole backlog.
func TestUnreachableEndpointPausesItsLane(t *testing.T) {
	env := testenv.New(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	recv.Close() // from now on connections are refused
	for range 40 {
		publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)})
	}
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 40 })
	frozen := time.Now().UTC() // every first attempt is due
	var skew atomic.Int64
	env.Dispatcher.Now = func() time.Time { return frozen.Add(time.Duration(skew.Load())) }
	env.StartDispatcher(t)

	retrying := func() int {
		counts, _ := due.DueCounts(env.ReadDB)
		return int(counts[hook.ID].Retries)
	}
	// With the clock frozen the lane's pause never ends: only the first
	// round of attempts (at most the cap of 4) is made.
	waitFor(t, func() bool { return retrying() > 0 })
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hook.ID}})
	waitFor(t, func() bool { return env.Dispatcher.InFlight() == 0 })
	if n := retrying(); n > domain.DefaultMaxConcurrency {
		t.Fatalf("%d attempts went to a dead endpoint before its lane paused; want at most %d", n, domain.DefaultMaxConcurrency)
	}
	// Once the pause (at most a minute) has passed, the lane tries again.
	before := retrying()
	skew.Store(int64(2 * time.Minute))
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hook.ID}})
	waitFor(t, func() bool { return retrying() > before })
}
