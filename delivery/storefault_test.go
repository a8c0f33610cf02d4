package delivery_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/faultstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// postsPerMessage counts a receiver's POSTs by webhook-id (the message).
func postsPerMessage(r *testenv.Receiver) map[string]int {
	n := map[string]int{}
	for _, got := range r.Received() {
		n[got.Header.Get("webhook-id")]++
	}
	return n
}

// With the disk full, an attempt whose record fails is not sent again at
// once: dispatch pauses, and each delivery is sent at most once more per
// back-off step. Once the store accepts writes again, every message is
// delivered and recorded.
func TestFullDiskPausesDispatch(t *testing.T) {
	var fs *faultstore.Store
	env := testenv.NewWith(t, testenv.Options{WrapStore: func(s eventstore.Store) eventstore.Store {
		fs = faultstore.Wrap(s)
		return fs
	}})
	// The dispatcher's clock moves only when the test moves it, an hour
	// ahead of the due times, so a back-off step ends exactly when the
	// test says.
	start := time.Now().UTC().Add(time.Hour)
	var clock atomic.Int64
	env.Dispatcher.Now = func() time.Time { return start.Add(time.Duration(clock.Load())) }
	env.Dispatcher.StoreBackoff, env.Dispatcher.StoreBackoffMax = time.Second, 4*time.Second
	reg := prometheus.NewRegistry()
	env.Dispatcher.Metrics = delivery.NewMetrics(reg, env.Dispatcher.InFlight,
		func() (map[string]due.DueCount, error) { return due.DueCounts(env.ReadDB) })
	logs := &logRecords{}
	env.Dispatcher.Logger = slog.New(logs)

	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	receivers := []*testenv.Receiver{testenv.NewReceiver(t), testenv.NewReceiver(t)}
	var hooks []webhooks.WebhookView
	for _, r := range receivers {
		hooks = append(hooks, env.VerifiedWebhook(t, p, r, "/in", "email.open"))
	}
	var deliveries []string
	for i := range 3 {
		res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		for _, h := range hooks {
			deliveries = append(deliveries, domain.DeliveryIDFor(res[0].MessageID, h.ID))
		}
	}
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == len(deliveries) })

	fs.FailAppends(fmt.Errorf("write events.db: %w", syscall.ENOSPC))
	env.StartDispatcher(t)
	const steps = 4
	for step := 0; step <= steps; step++ {
		refused := fs.RefusedAppends()
		if step > 0 {
			clock.Add(int64(env.Dispatcher.StoreBackoffMax + time.Second)) // past any pause
			notifyLanes(env, hooks)
		}
		waitFor(t, func() bool {
			return fs.RefusedAppends() > refused && env.Dispatcher.InFlight() == 0 && env.Dispatcher.StorePaused()
		})
		t.Logf("step %d: POSTs per message %v %v", step, postsPerMessage(receivers[0]), postsPerMessage(receivers[1]))
		// Sending stops while the store refuses: each delivery has had its
		// first attempt and at most one more per step that ended.
		for i, r := range receivers {
			for msg, n := range postsPerMessage(r) {
				if n > step+1 {
					t.Fatalf("step %d: webhook %d got message %s %d times; want at most %d", step, i, msg, n, step+1)
				}
			}
		}
	}
	if got := pausedGauge(t, reg); got != 1 {
		t.Fatalf("store-paused gauge = %v while appends fail", got)
	}
	if logs.count("dispatcher: the store refuses writes; dispatch paused") < 1 {
		t.Fatal("no log line says dispatch paused")
	}

	fs.Heal()
	clock.Add(int64(env.Dispatcher.StoreBackoffMax + time.Second))
	notifyLanes(env, hooks)
	for _, id := range deliveries {
		waitFor(t, func() bool {
			s, _ := readDelivery(t, env, id)
			return s.Status == domain.DeliveryStatusSucceeded
		})
	}
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 0 })
	for i, r := range receivers {
		if n := len(postsPerMessage(r)); n != 3 {
			t.Fatalf("webhook %d received %d of 3 messages", i, n)
		}
	}
	if env.Dispatcher.StorePaused() || pausedGauge(t, reg) != 0 {
		t.Fatal("dispatch still reported paused after the store healed")
	}
	if logs.count("dispatcher: the store records attempts again; dispatch resumed") != 1 {
		t.Fatal("no log line says dispatch resumed")
	}
}

func notifyLanes(env *testenv.Env, hooks []webhooks.WebhookView) {
	for _, h := range hooks {
		env.Dispatcher.Notify([]projections.Change{{Topic: due.TopicDue, ID: h.ID}})
	}
}

// pausedGauge reads the store-paused gauge from the registry.
func pausedGauge(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "webhookd_delivery_store_paused" && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("webhookd_delivery_store_paused is not registered")
	return 0
}
