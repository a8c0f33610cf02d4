package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// BenchmarkThroughput publishes events in batches of 1,000 to webhooks on
// loopback receivers and measures deliveries per second from the first
// publish to the last attempt recorded durably in the store, for
// BENCH_EVENTS deliveries (100,000 by default). In the same run, a bare
// net/http client POSTs as many signed payloads to the same receivers at
// the same concurrency: the ceiling of this machine, and the ratio to it.
// It also prints per delivery: CPU, heap allocations, log bytes, bytes the
// kernel wrote to disk and fsyncs.
//
// one-match: 10 webhooks, each event matches exactly one (types spread
// evenly). all-match: each event matches all 10. fan-out-100 and
// fan-out-1000: each event matches 100 or 1,000 webhooks. The fan-out
// cases publish as many fewer events as each one matches, so the number
// of deliveries is the same. registry-10000 is one-match beside 9,990
// more webhooks subscribed to the same types but never verified, so they
// receive nothing and cost only the registry's lookups.
func BenchmarkThroughput(b *testing.B) {
	b.Run("one-match", func(b *testing.B) { benchThroughput(b, benchWebhooks, false, 0) })
	b.Run("all-match", func(b *testing.B) { benchThroughput(b, benchWebhooks, true, 0) })
	b.Run("fan-out-100", func(b *testing.B) { benchThroughput(b, 100, true, 0) })
	b.Run("fan-out-1000", func(b *testing.B) { benchThroughput(b, 1000, true, 0) })
	b.Run("registry-10000", func(b *testing.B) { benchThroughput(b, benchWebhooks, false, 10_000-benchWebhooks) })
}

const benchWebhooks = 10

// benchReceivers bounds the loopback servers a run starts; webhooks beyond
// it share them, each under its own path.
const benchReceivers = 10

func benchThroughput(b *testing.B, webhooks int, allMatch bool, idle int) {
	deliveries := envInt("BENCH_EVENTS", 100_000)
	concurrency := envInt("BENCH_CONCURRENCY", domain.DefaultMaxConcurrency)
	types := min(webhooks, benchWebhooks)
	if allMatch {
		types = 1
	}
	r := newRig(b, types, 0)
	var recvs []*receiver
	for range min(webhooks, benchReceivers) {
		recvs = append(recvs, newReceiver(b, false))
	}
	var targets []target
	for i := range webhooks {
		v := r.webhookAt(b, recvs[i%len(recvs)], fmt.Sprintf("/hook/%d", i), concurrency, r.types[i%types])
		targets = append(targets, target{url: v.URL, secret: v.Secret})
	}
	for i := range idle {
		if _, err := r.env.App.CreateWebhook(context.Background(), r.owner, domain.CreateWebhook{
			Name: "idle", URL: fmt.Sprintf("%s/idle/%d", recvs[0].srv.URL, i), EventTypes: []string{r.types[i%types]},
		}); err != nil {
			b.Fatal(err)
		}
	}
	m := newMeter(b)
	u0 := m.sample()
	base := baseline(b, targets, deliveries, concurrency)
	baseUse := m.since(u0)

	perEvent := webhooks / types
	events := roundRobin(deliveries/perEvent, r.types)
	deliveries = len(events) * perEvent
	from := r.env.Runner.Position()
	out := r.followOutcomes(b)
	r.env.StartDispatcher(b)
	defer r.sampler(b, out, recvs)()
	b.ResetTimer()
	u0 = m.sample()
	start := time.Now()
	r.publishAll(b, events)
	published := time.Since(start)
	end := out.waitSucceeded(b, int64(deliveries), 30*time.Minute)
	b.StopTimer()
	elapsed := end.Sub(start)
	use := m.since(u0)
	logEvents, logSize := logBytes(b, r.env.Store, from)

	if os.Getenv("BENCH_TRACE") != "" {
		st := r.env.ReadDB.Stats()
		b.Logf("read model: %d txs, %d page writes, %d nodes spilled, spill %s, write %s",
			st.TxN, st.TxStats.GetWrite(), st.TxStats.GetSpill(), st.TxStats.GetSpillTime(), st.TxStats.GetWriteTime())
	}
	rate := float64(deliveries) / elapsed.Seconds()
	baseRate := float64(deliveries) / base.Seconds()
	per := func(x float64) float64 { return x / float64(deliveries) }
	b.ReportMetric(rate, "deliveries/s")
	b.ReportMetric(float64(len(events))/published.Seconds(), "published/s")
	b.ReportMetric(baseRate, "baseline/s")
	b.ReportMetric(rate/baseRate, "ratio")
	use.report(b, deliveries, "delivery")
	b.ReportMetric(per(float64(logSize)), "log-B/delivery")
	b.ReportMetric(per(float64(logEvents)), "log-events/delivery")
	b.ReportMetric(per(baseUse.cpuUS), "baseline-cpu-us/req")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d events, %d deliveries to %d webhooks (cap %d each): %s, %.0f deliveries/s; publishing took %s; bare net/http baseline %.0f/s; ratio %.3f; per delivery: CPU %.0f µs (baseline %.0f µs), %.0f allocs, %.0f log B in %.2f events, %.0f disk B, %.2f fsyncs",
		len(events), deliveries, webhooks, concurrency, elapsed.Round(time.Millisecond), rate, published.Round(time.Millisecond),
		baseRate, rate/baseRate, per(use.cpuUS), per(baseUse.cpuUS), per(float64(use.mallocs)), per(float64(logSize)),
		per(float64(logEvents)), per(float64(use.diskBytes)), per(float64(use.fsyncs)))
}
