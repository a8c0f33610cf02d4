package bench

import (
	"os"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// BenchmarkThroughput publishes BENCH_EVENTS events (100,000 by default) in
// batches of 1,000 to 10 webhooks, each on its own loopback receiver, and
// measures deliveries per second from the first publish to the last attempt
// recorded durably in the store. In the same run, a bare net/http client
// POSTs as many signed payloads to the same receivers at the same
// concurrency: the ceiling of this machine, and the ratio to it.
//
// one-match: each event matches exactly one webhook (types spread evenly).
// all-match: each event matches all 10; a tenth as many events are
// published, so the number of deliveries is the same.
func BenchmarkThroughput(b *testing.B) {
	b.Run("one-match", func(b *testing.B) { benchThroughput(b, false) })
	b.Run("all-match", func(b *testing.B) { benchThroughput(b, true) })
}

const benchWebhooks = 10

func benchThroughput(b *testing.B, allMatch bool) {
	deliveries := envInt("BENCH_EVENTS", 100_000)
	concurrency := envInt("BENCH_CONCURRENCY", domain.DefaultMaxConcurrency)
	r := newRig(b, benchWebhooks, 0)
	var targets []target
	for i := range benchWebhooks {
		recv := newReceiver(b, false)
		types := r.types[i : i+1]
		if allMatch {
			types = r.types
		}
		v := r.webhook(b, recv, concurrency, types...)
		targets = append(targets, target{url: v.URL, secret: v.Secret})
	}
	cpu0 := cpuTime()
	base := baseline(b, targets, deliveries, concurrency)
	baseCPU := cpuTime() - cpu0

	events := roundRobin(deliveries, r.types)
	if allMatch {
		events = roundRobin(deliveries/benchWebhooks, r.types)
	}
	out := r.followOutcomes(b)
	r.env.StartDispatcher(b)
	b.ResetTimer()
	cpu0 = cpuTime()
	start := time.Now()
	r.publishAll(b, events)
	published := time.Since(start)
	end := out.waitSucceeded(b, int64(len(events)*deliveriesPerEvent(allMatch)), 30*time.Minute)
	b.StopTimer()
	elapsed := end.Sub(start)
	cpu := cpuTime() - cpu0

	if os.Getenv("BENCH_TRACE") != "" {
		st := r.env.ReadDB.Stats()
		b.Logf("read model: %d txs, %d page writes, %d nodes spilled, spill %s, write %s",
			st.TxN, st.TxStats.GetWrite(), st.TxStats.GetSpill(), st.TxStats.GetSpillTime(), st.TxStats.GetWriteTime())
	}
	rate := float64(deliveries) / elapsed.Seconds()
	baseRate := float64(deliveries) / base.Seconds()
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(float64(len(events))/published.Seconds(), "published/s")
	b.ReportMetric(baseRate, "baseline/s")
	b.ReportMetric(rate/baseRate, "ratio")
	b.ReportMetric(float64(cpu.Microseconds())/float64(deliveries), "cpu-us/delivery")
	b.ReportMetric(float64(baseCPU.Microseconds())/float64(deliveries), "baseline-cpu-us/req")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d events, %d deliveries to %d webhooks (cap %d each): %s, %.0f deliveries/s; publishing took %s; bare net/http baseline %.0f/s; ratio %.3f; CPU %s (baseline %s)",
		len(events), deliveries, benchWebhooks, concurrency, elapsed.Round(time.Millisecond), rate, published.Round(time.Millisecond), baseRate, rate/baseRate, cpu.Round(time.Millisecond), baseCPU.Round(time.Millisecond))
}

func deliveriesPerEvent(allMatch bool) int {
	if allMatch {
		return benchWebhooks
	}
	return 1
}
