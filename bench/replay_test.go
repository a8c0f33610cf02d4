package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// BenchmarkReplay measures the projection runner alone: the read models
// rebuilt (Runner.Rebuild, catch-up transactions of 1,000 events) from a
// one-match log of BENCH_REPLAY_DELIVERIES deliveries (default 20,000)
// that the engine wrote to 10 webhooks. No HTTP and no other stage runs
// meanwhile, so its CPU per delivery compares two builds' read-model cost
// far more steadily than the throughput benchmark's on a shared machine.
// The rebuild's transactions are larger than a live runner's (about 110
// events under the throughput benchmark's load), so the figure is a lower
// bound of the runner's share there, not a part of it.
func BenchmarkReplay(b *testing.B) {
	n := envInt("BENCH_REPLAY_DELIVERIES", 20_000)
	r := newRig(b, benchWebhooks, 0)
	for i := range benchWebhooks {
		r.webhookAt(b, newReceiver(b, false), fmt.Sprintf("/hook/%d", i), domain.DefaultMaxConcurrency, r.types[i])
	}
	out := r.followOutcomes(b)
	r.env.StartDispatcher(b)
	r.publishAll(b, roundRobin(n, r.types))
	out.waitSucceeded(b, int64(n), 30*time.Minute)
	if err := r.env.Runner.WaitFor(context.Background(), r.env.Runner.Position()); err != nil {
		b.Fatal(err)
	}
	// A dispatcher left running would see every delivery owed again while
	// the rebuilt due index has not yet reached its attempt, and read each
	// one's stream to find it finished: its work, not the runner's.
	r.env.StopDispatcher()
	m := newMeter(b)
	b.ResetTimer()
	var total usage
	for range b.N {
		u0 := m.sample()
		if err := r.env.Runner.Rebuild(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		u := m.since(u0)
		total.cpuUS += u.cpuUS
		total.mallocs += u.mallocs
		total.allocBytes += u.allocBytes
		total.diskBytes += u.diskBytes
	}
	b.StopTimer()
	total.fsyncs = -1
	total.report(b, n*b.N, "delivery")
}
