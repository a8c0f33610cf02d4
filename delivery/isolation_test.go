package delivery_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
)

// TestSlowAndFailingEndpointsDoNotHoldBackOthers gives one webhook an
// endpoint that never answers in time, one that answers 500, and two
// healthy ones, and publishes the same number of events to each. The
// healthy ones must receive everything while the hanging one is still
// stuck on its first few attempts: each webhook's lane is its own.
func TestSlowAndFailingEndpointsDoNotHoldBackOthers(t *testing.T) {
	const perWebhook = 200
	// A sender timeout far longer than the test, so the hanging endpoint's
	// attempts are outstanding throughout; Release ends them at cleanup.
	env := testenv.NewWith(t, testenv.Options{SenderTimeout: 5 * time.Minute})
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)

	hanging := testenv.NewReceiver(t)
	failing := testenv.NewReceiver(t)
	healthy := []*testenv.Receiver{testenv.NewReceiver(t), testenv.NewReceiver(t)}
	hangHook := env.VerifiedWebhook(t, p, hanging, "/in", "email.open")
	failHook := env.VerifiedWebhook(t, p, failing, "/in", "email.click")
	env.VerifiedWebhook(t, p, healthy[0], "/in", "email.bounce")
	env.VerifiedWebhook(t, p, healthy[1], "/in", "email.delivery")
	hanging.Hold()
	failing.Respond(http.StatusInternalServerError, 0)
	env.StartDispatcher(t)
	t.Cleanup(hanging.Release) // runs before the dispatcher stops

	var events []app.PublishInput
	for i := range perWebhook {
		data := json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)
		for _, typ := range []string{"email.open", "email.click", "email.bounce", "email.delivery"} {
			events = append(events, app.PublishInput{Account: "acme", Type: typ, Data: data})
		}
	}
	res := publish(t, env, events...)

	for i, r := range healthy {
		got := r.WaitFor(t, perWebhook, 60*time.Second)
		if len(got) != perWebhook {
			t.Errorf("healthy webhook %d received %d requests, want %d", i, len(got), perWebhook)
		}
	}

	t.Run("HangingWebhookHeldAtItsCap", func(t *testing.T) {
		seen := hanging.Received()
		if len(seen) == 0 || len(seen) > hangHook.MaxConcurrency {
			t.Errorf("hanging endpoint saw %d requests; want 1 to its cap of %d", len(seen), hangHook.MaxConcurrency)
		}
		if n := hanging.Completed(); n != 0 {
			t.Errorf("hanging endpoint answered %d requests, want none yet", n)
		}
	})

	t.Run("FailingWebhookRetrying", func(t *testing.T) {
		for i := 1; i < len(res); i += 4 { // the email.click events
			waitDelivery(t, env, domain.DeliveryIDFor(res[i].MessageID, failHook.ID), domain.DeliveryStatusRetrying)
		}
		if n := len(failing.Received()); n < perWebhook {
			t.Errorf("failing endpoint saw %d requests, want at least %d", n, perWebhook)
		}
	})
}
