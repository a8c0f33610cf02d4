package bench

import (
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// BenchmarkOneWebhook is one webhook at the default maxConcurrency (4)
// with a loopback receiver answering at once, beside the bare net/http
// baseline at the same concurrency in the same run. Two measures of
// BENCH_ONE_WEBHOOK_EVENTS (default 10,000) deliveries:
//   - backlog: owed deliveries filed before the dispatcher starts, timed
//     from its start to the last success in the log;
//   - live: the dispatcher running while a publisher offers
//     BENCH_ONE_WEBHOOK_RATE events/s (default 6,000), timed from the
//     first publish to the last success; below the offered rate a backlog
//     builds.
//
// What bounds both is one slot's cycle: POST, then the attempt's append
// and commit before the slot takes the next delivery.
func BenchmarkOneWebhook(b *testing.B) {
	n := envInt("BENCH_ONE_WEBHOOK_EVENTS", 10_000)
	offered := envInt("BENCH_ONE_WEBHOOK_RATE", 6_000)
	var rate, live, bare float64
	for range b.N {
		rate = benchBatch(b, n, 0)
		live = benchOneWebhookLive(b, n, offered)
		recv := newReceiver(b, false)
		r := newRig(b, 1, 0)
		v := r.webhook(b, recv, domain.DefaultMaxConcurrency, r.types...)
		bare = float64(n) / baseline(b, []target{{url: v.URL, secret: v.Secret}}, n, domain.DefaultMaxConcurrency).Seconds()
	}
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(live, "live-deliveries/s")
	b.ReportMetric(bare, "baseline/s")
	b.ReportMetric(rate/bare, "ratio")
	b.ReportMetric(0, "ns/op")
	b.Logf("one webhook, cap %d: backlog %.0f deliveries/s; live, %d/s offered: %.0f deliveries/s; bare net/http at the same concurrency %.0f/s; ratio (backlog) %.3f",
		domain.DefaultMaxConcurrency, rate, offered, live, bare, rate/bare)
}

// benchOneWebhookLive publishes n events to one running webhook at
// offered events/s, in batches every 10 ms, and returns the deliveries/s
// from the first publish to the last success.
func benchOneWebhookLive(b *testing.B, n, offered int) float64 {
	b.StopTimer()
	r := newRig(b, 1, 0)
	recv := newReceiver(b, false)
	r.webhook(b, recv, domain.DefaultMaxConcurrency, r.types...)
	out := r.followOutcomes(b)
	r.env.StartDispatcher(b)
	events := roundRobin(n, r.types)
	per := max(offered/100, 1) // events per 10 ms tick
	b.StartTimer()
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	for len(events) > 0 {
		k := min(per, len(events))
		r.publishAll(b, events[:k])
		events = events[k:]
		<-tick.C
	}
	tick.Stop()
	end := out.waitSucceeded(b, int64(n), 10*time.Minute)
	b.StopTimer()
	rate := float64(n) / end.Sub(start).Seconds()
	b.Logf("live: %d deliveries at %d/s offered in %s, %.0f deliveries/s (publishing took %s)",
		n, offered, end.Sub(start).Round(time.Millisecond), rate, time.Duration(n)*time.Second/time.Duration(offered))
	return rate
}
