package bench

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
)

// BenchmarkLatency publishes at a steady 500 events/s (BENCH_RATE) for 60 s
// (BENCH_DURATION), one event per Publish call, spread over 10 webhooks on
// their own receivers, and reports publish-to-receive latency: from the
// start of the Publish call to the receiver reading the request. Publishing
// is open-loop: a slow call never delays the next one, as with independent
// publishers. It also breaks the latency down into the Publish call (until
// the message is durable and acknowledged), ack to committed (until the
// read models have applied it and filed its delivery) and committed to
// POST received (the dispatcher's share).
func BenchmarkLatency(b *testing.B) {
	rate := envInt("BENCH_RATE", 500)
	duration := envDuration("BENCH_DURATION", 60*time.Second)
	r := newRig(b, benchWebhooks, 0)
	var recvs []*receiver
	for i := range benchWebhooks {
		recv := newReceiver(b, true)
		r.webhook(b, recv, 0, r.types[i])
		recvs = append(recvs, recv)
	}
	out := r.followOutcomes(b)
	r.env.StartDispatcher(b)

	n := int(duration.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	var mu sync.Mutex
	started := make(map[string]time.Time, n)
	acked := make(map[string]time.Time, n)
	var wg sync.WaitGroup
	defer r.sampler(b, out, recvs)()
	from := r.env.Runner.Position()
	stopApplied := make(chan struct{})
	appliedAt := followApplied(r, stopApplied)
	b.ResetTimer()
	begin := time.Now()
	for i := range n {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			at := time.Now()
			res, err := r.env.App.Publish(context.Background(), []app.PublishInput{{Account: account, Type: r.types[i%len(r.types)], Data: eventData}})
			if err != nil || res[0].Err != nil {
				b.Errorf("publish: %v %v", err, res[0].Err)
				return
			}
			done := time.Now()
			mu.Lock()
			started[res[0].MessageID], acked[res[0].MessageID] = at, done
			mu.Unlock()
		}()
	}
	wg.Wait()
	paced := time.Since(begin)
	out.waitSucceeded(b, int64(n), 10*time.Minute)
	b.StopTimer()
	close(stopApplied)
	stages := breakdown(b, r, from, <-appliedAt, started, acked, recvs)

	var lat []time.Duration
	for _, recv := range recvs {
		for id, at := range recv.arrivals() {
			if s, ok := started[id]; ok {
				lat = append(lat, at.Sub(s))
			}
		}
	}
	if len(lat) != n {
		b.Fatalf("matched %d arrivals to %d published events", len(lat), n)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(int(p*float64(len(lat))), len(lat)-1)] }
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(q(0.50)), "p50-ms")
	b.ReportMetric(ms(q(0.90)), "p90-ms")
	b.ReportMetric(ms(q(0.99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(n)/paced.Seconds(), "events/s")
	for _, st := range stages {
		b.ReportMetric(ms(st.q(0.5)), st.name+"-p50-ms")
		b.ReportMetric(ms(st.q(0.99)), st.name+"-p99-ms")
	}
	b.ReportMetric(0, "ns/op")
	b.Logf("%d events at %d/s over %s (achieved %.0f/s): publish-to-receive p50 %s, p90 %s, p99 %s, max %s",
		n, rate, paced.Round(time.Millisecond), float64(n)/paced.Seconds(), q(0.5).Round(10*time.Microsecond),
		q(0.9).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	for _, st := range stages {
		b.Logf("  %s: p50 %s, p99 %s", st.name, st.q(0.5).Round(10*time.Microsecond), st.q(0.99).Round(10*time.Microsecond))
	}
}
