package delivery_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/due"
)

func TestMetrics(t *testing.T) {
	env := testenv.New(t)
	reg := prometheus.NewRegistry()
	env.Dispatcher.Metrics = delivery.NewMetrics(reg, env.Dispatcher.InFlight,
		func() (map[string]due.DueCount, error) { return due.DueCounts(env.ReadDB) })
	env.StartDispatcher(t)
	recv := testenv.NewReceiver(t)
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	hook := env.VerifiedWebhook(t, p, recv, "/in", "email.open")
	ctx := context.Background()
	if _, err := env.App.PauseWebhook(ctx, p, hook.ID); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{}`)})
	}
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 3 })
	want := `
# HELP webhookd_deliveries_owed Attempts owed per webhook: kind=first for deliveries never attempted (the queue), kind=retry for pending retries. The largest webhooks get their own series; the rest are summed as webhook="other".
# TYPE webhookd_deliveries_owed gauge
webhookd_deliveries_owed{kind="first",webhook="` + hook.ID + `"} 3
webhookd_deliveries_owed{kind="retry",webhook="` + hook.ID + `"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "webhookd_deliveries_owed"); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.ResumeWebhook(ctx, p, hook.ID); err != nil {
		t.Fatal(err)
	}
	recv.WaitFor(t, 3, 10*time.Second)
	waitFor(t, func() bool { n, _ := due.CountDue(env.ReadDB); return n == 0 })
	waitFor(t, func() bool {
		n, _ := testutil.GatherAndCount(reg, "webhookd_deliveries_owed")
		return n == 0
	})
	attempts := `
# HELP webhookd_delivery_attempts_total Delivery attempts by webhook, outcome (succeeded, retry, failed) and status class. The first 100 webhooks seen get their own series; the rest share webhook="other".
# TYPE webhookd_delivery_attempts_total counter
webhookd_delivery_attempts_total{outcome="succeeded",status="2xx",webhook="` + hook.ID + `"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(attempts), "webhookd_delivery_attempts_total"); err != nil {
		t.Fatal(err)
	}
	if n, _ := testutil.GatherAndCount(reg, "webhookd_delivery_attempt_seconds"); n != 1 {
		t.Fatalf("latency histogram has %d series", n)
	}
}
