package bench

import (
	"testing"

	"github.com/webhookd/webhookd/domain"
)

// BenchmarkOneWebhook is one webhook at the default maxConcurrency (4)
// with a loopback receiver answering at once: a backlog of
// BENCH_ONE_WEBHOOK_EVENTS (default 10,000) owed deliveries, timed from
// the dispatcher's start to the last success in the log, beside the bare
// net/http baseline at the same concurrency in the same run. What bounds
// it is one slot's cycle: POST, then the attempt's append and commit
// before the slot takes the next delivery.
func BenchmarkOneWebhook(b *testing.B) {
	n := envInt("BENCH_ONE_WEBHOOK_EVENTS", 10_000)
	var rate, bare float64
	for range b.N {
		rate = benchBatch(b, n, 0)
		recv := newReceiver(b, false)
		r := newRig(b, 1, 0)
		v := r.webhook(b, recv, domain.DefaultMaxConcurrency, r.types...)
		bare = float64(n) / baseline(b, []target{{url: v.URL, secret: v.Secret}}, n, domain.DefaultMaxConcurrency).Seconds()
	}
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(bare, "baseline/s")
	b.ReportMetric(rate/bare, "ratio")
	b.ReportMetric(0, "ns/op")
	b.Logf("one webhook, cap %d: %.0f deliveries/s; bare net/http at the same concurrency %.0f/s; ratio %.3f",
		domain.DefaultMaxConcurrency, rate, bare, rate/bare)
}
