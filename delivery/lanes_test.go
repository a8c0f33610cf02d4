package delivery_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/ratelimit"
)

// A webhook's rate limit holds its lane: with the limiter's clock frozen
// only the burst goes out, however many deliveries are due; once time
// moves on, the rest follow.
func TestRateLimitHoldsTheLane(t *testing.T) {
	env := testenv.New(t)
	var released atomic.Bool
	frozen := time.Now()
	env.Dispatcher.Limiter = ratelimit.NewGCRA(func() time.Time {
		if released.Load() {
			return time.Now().Add(time.Minute) // past every frozen-time allowance
		}
		return frozen
	})
	reg := prometheus.NewRegistry()
	env.Dispatcher.Metrics = delivery.NewMetrics(reg, env.Dispatcher.InFlight,
		func() (map[string]due.DueCount, error) { return due.DueCounts(env.ReadDB) })
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	rl := domain.RateLimit{PerSecond: 2, Burst: 2}
	if _, err := env.App.UpdateWebhook(context.Background(), p, hook.ID, nil, domain.UpdateWebhook{RateLimit: &rl}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)})
	}
	env.StartDispatcher(t)
	recv.WaitFor(t, 2, 10*time.Second)
	// The lane asks again after each wait; let it be refused a few times.
	waitFor(t, func() bool { return rateLimitedWaits(t, reg) >= 3 })
	if n := len(recv.Received()); n != 2 {
		t.Fatalf("%d deliveries went out under a rate limit of 2 with a frozen clock", n)
	}
	released.Store(true)
	recv.WaitFor(t, 10, 10*time.Second)
}

// rateLimitedWaits sums webhookd_delivery_rate_limited_total.
func rateLimitedWaits(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "webhookd_delivery_rate_limited_total" {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

// An endpoint answering 503 slows its whole lane down, not just the one
// delivery: with the dispatcher's clock frozen, no attempt follows the
// first round until the pause has passed.
func TestOverloadedEndpointSlowsItsLane(t *testing.T) {
	env := testenv.New(t)
	recv := testenv.NewReceiver(t)
	recv.Respond(http.StatusServiceUnavailable, 0)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	for range 20 {
		publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)})
	}
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 20 })
	frozen := time.Now().UTC()
	var skew atomic.Int64
	env.Dispatcher.Now = func() time.Time { return frozen.Add(time.Duration(skew.Load())) }
	env.StartDispatcher(t)
	recv.WaitFor(t, 1, 10*time.Second)
	waitFor(t, func() bool { return env.Dispatcher.InFlight() == 0 })
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hook.ID}})
	waitFor(t, func() bool { return env.Dispatcher.InFlight() == 0 })
	if n := len(recv.Received()); n > domain.DefaultMaxConcurrency {
		t.Fatalf("%d requests reached an endpoint answering 503 before its lane slowed; want at most %d", n, domain.DefaultMaxConcurrency)
	}
	before := len(recv.Received())
	skew.Store(int64(2 * time.Minute))
	env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: hook.ID}})
	recv.WaitFor(t, before+1, 10*time.Second)
}

// MaxInFlight caps attempts across all webhooks, and the slots it frees
// go round the lanes waiting for one: with two slots, three webhooks'
// twelve deliveries go out two at a time, and every webhook gets all of
// its deliveries once the endpoints answer.
func TestGlobalCapHandsFreedSlotsToWaitingLanes(t *testing.T) {
	env := testenv.New(t)
	env.Dispatcher.MaxInFlight = 2
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	types := []string{"email.open", "email.click", "email.bounce"}
	var recvs []*testenv.Receiver
	for _, typ := range types {
		recv := testenv.NewReceiver(t)
		env.VerifiedWebhook(t, p, recv, "/in", typ)
		recv.Hold()
		recvs = append(recvs, recv)
	}
	for range 4 {
		for _, typ := range types {
			publish(t, env, app.PublishInput{Account: "acme", Type: typ, Data: json.RawMessage(`{}`)})
		}
	}
	received := func() int {
		n := 0
		for _, r := range recvs {
			n += len(r.Received())
		}
		return n
	}
	env.StartDispatcher(t)
	waitFor(t, func() bool { return received() == 2 })
	time.Sleep(200 * time.Millisecond) // room for a third to go out, which the cap forbids
	if n := received(); n != 2 {
		t.Fatalf("%d requests went out under a global cap of 2", n)
	}
	for _, r := range recvs {
		r.Release()
	}
	for i, r := range recvs {
		if got := r.WaitFor(t, 4, 10*time.Second); len(got) != 4 {
			t.Errorf("webhook for %s: %d deliveries", types[i], len(got))
		}
	}
}

// A lane at its cap is passed over without reading its webhook, but a
// change to the webhook makes it read again: raising the cap lets more
// deliveries out while the first is still unanswered.
func TestRaisedCapTakesEffectWhileTheLaneIsFull(t *testing.T) {
	env := testenv.New(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	recv := testenv.NewReceiver(t)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	one := 1
	if _, err := env.App.UpdateWebhook(context.Background(), p, hook.ID, nil, domain.UpdateWebhook{MaxConcurrency: &one}); err != nil {
		t.Fatal(err)
	}
	recv.Hold()
	defer recv.Release()
	for range 3 {
		publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)})
	}
	env.StartDispatcher(t)
	recv.WaitFor(t, 1, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // room for a second to go out, which the cap forbids
	if n := len(recv.Received()); n != 1 {
		t.Fatalf("%d requests in flight under a cap of 1", n)
	}
	three := 3
	if _, err := env.App.UpdateWebhook(context.Background(), p, hook.ID, nil, domain.UpdateWebhook{MaxConcurrency: &three}); err != nil {
		t.Fatal(err)
	}
	recv.WaitFor(t, 3, 3*time.Second) // the first is still held (the sender gives up on it after 5 s)
}
