package bench

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections/due"
)

// BenchmarkBatching delivers a backlog of BENCH_BATCH_EVENTS events
// (10,000 by default) to one webhook on a loopback receiver, batching 1,
// 10 and 100 events per POST (the default concurrency cap of 4 requests
// in flight), and prints deliveries/s for each and the ratios to a batch
// of one, all in one run; batching off (one envelope per POST, the single
// attempt path) runs first, beside them. Each runs on a fresh rig. The clock runs from starting the dispatcher on
// the published backlog to the last success recorded durably, so it
// measures sending and recording, not publishing.
func BenchmarkBatching(b *testing.B) {
	n := envInt("BENCH_BATCH_EVENTS", 10_000)
	rates := map[int]float64{}
	for range b.N {
		for _, size := range []int{0, 1, 10, 100} {
			rates[size] = benchBatch(b, n, size)
		}
	}
	b.ReportMetric(rates[0], "off-deliveries/s")
	b.ReportMetric(rates[1], "batch1-deliveries/s")
	b.ReportMetric(rates[10], "batch10-deliveries/s")
	b.ReportMetric(rates[100], "batch100-deliveries/s")
	b.ReportMetric(rates[10]/rates[1], "batch10/batch1")
	b.ReportMetric(rates[100]/rates[1], "batch100/batch1")
	b.ReportMetric(0, "ns/op")
	b.Logf("batching off: %.0f deliveries/s; batches of 1: %.0f; of 10: %.0f (x%.1f); of 100: %.0f (x%.1f)",
		rates[0], rates[1], rates[10], rates[10]/rates[1], rates[100], rates[100]/rates[1])
}

func benchBatch(b *testing.B, n, size int) float64 {
	b.StopTimer()
	r := newRig(b, 1, 0)
	recv := newReceiver(b, false)
	v := r.webhook(b, recv, domain.DefaultMaxConcurrency, r.types...)
	batching := domain.Batching{MaxEvents: size}
	if _, err := r.env.App.UpdateWebhook(context.Background(), r.owner, v.ID, nil, domain.UpdateWebhook{Batching: &batching}); err != nil {
		b.Fatal(err)
	}
	out := r.followOutcomes(b)
	r.publishAll(b, roundRobin(n, r.types))
	deadline := time.Now().Add(5 * time.Minute)
	for {
		owed, _, err := due.DueFor(r.env.ReadDB, v.ID, time.Now().Add(time.Hour), n+1, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(owed) == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the due index holds %d of %d", len(owed), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.StartTimer()
	start := time.Now()
	r.env.StartDispatcher(b)
	end := out.waitSucceeded(b, int64(n), 10*time.Minute)
	b.StopTimer()
	rate := float64(n) / end.Sub(start).Seconds()
	b.Logf("batch %d: %d deliveries in %s, %.0f deliveries/s, %d requests", size, n, end.Sub(start).Round(time.Millisecond), rate, recv.count.Load())
	return rate
}
