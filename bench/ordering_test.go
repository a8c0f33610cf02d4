package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// BenchmarkOrdering delivers BENCH_ORDER_EVENTS events (2,000 by default)
// to one webhook on a loopback receiver, unordered (up to the default
// concurrency cap), ordered PER_WEBHOOK (one at a time) and ordered
// PER_KEY over 16 keys (one at a time per key), and prints the rate of
// each: the price of ordered delivery.
func BenchmarkOrdering(b *testing.B) {
	b.Run("none", func(b *testing.B) { benchOrdering(b, domain.Ordering{}) })
	b.Run("per-webhook", func(b *testing.B) { benchOrdering(b, domain.Ordering{Mode: domain.OrderingPerWebhook}) })
	b.Run("per-key-16", func(b *testing.B) {
		benchOrdering(b, domain.Ordering{Mode: domain.OrderingPerKey, Key: "data.recipient"})
	})
}

func benchOrdering(b *testing.B, o domain.Ordering) {
	n := envInt("BENCH_ORDER_EVENTS", 2000)
	r := newRig(b, 1, 0)
	recv := newReceiver(b, false)
	v := r.webhook(b, recv, domain.DefaultMaxConcurrency, r.types...)
	if _, err := r.env.App.UpdateWebhook(context.Background(), r.owner, v.ID, nil, domain.UpdateWebhook{Ordering: &o}); err != nil {
		b.Fatal(err)
	}
	events := make([]app.PublishInput, n)
	for i := range events {
		data := json.RawMessage(fmt.Sprintf(`{"recipient":"r%d@example.com","n":%d}`, i%16, i))
		events[i] = app.PublishInput{Account: account, Type: r.types[0], Data: data}
	}
	out := r.followOutcomes(b)
	r.env.StartDispatcher(b)
	b.ResetTimer()
	start := time.Now()
	r.publishAll(b, events)
	end := out.waitSucceeded(b, int64(n), 10*time.Minute)
	b.StopTimer()
	rate := float64(n) / end.Sub(start).Seconds()
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(0, "ns/op")
	mode := o.Mode
	if mode == "" {
		mode = domain.OrderingNone
	}
	b.Logf("ordering %s: %d deliveries in %s, %.0f deliveries/s", mode, n, end.Sub(start).Round(time.Millisecond), rate)
}
