package bench

import (
	"testing"
	"time"
)

// isolationTimeout is the sender timeout in the isolation benchmark: short,
// so hanging endpoints time out within the run, where the default of 15 s
// would leave every attempt to them outstanding until the end.
const isolationTimeout = time.Second

// BenchmarkIsolation measures how much of their throughput healthy webhooks
// keep when 20% of webhooks time out. Baseline: 8 healthy webhooks get
// BENCH_ISOLATION_EVENTS events (20,000 by default) between them and the
// other 2 get none. Degraded: the same 8 get the same events while the
// other 2, whose receivers hang past the sender timeout (1 s here), get a
// quarter as many again (a fifth of all events), interleaved. Throughput is
// the healthy deliveries over the time from the first publish to the last
// healthy attempt recorded.
func BenchmarkIsolation(b *testing.B) {
	healthyEvents := envInt("BENCH_ISOLATION_EVENTS", 20_000)
	base := isolationRun(b, healthyEvents, false)
	degraded := isolationRun(b, healthyEvents, true)
	b.ReportMetric(base, "baseline-healthy/s")
	b.ReportMetric(degraded, "degraded-healthy/s")
	b.ReportMetric(degraded/base, "kept")
	b.ReportMetric(0, "ns/op")
	b.Logf("healthy webhooks: %.0f deliveries/s alone, %.0f/s with 2 of 10 webhooks timing out (sender timeout %s): kept %.0f%%",
		base, degraded, isolationTimeout, 100*degraded/base)
}

// isolationRun returns the healthy webhooks' deliveries per second.
func isolationRun(b *testing.B, healthyEvents int, withBad bool) float64 {
	const healthy, bad = 8, 2
	r := newRig(b, healthy+bad, isolationTimeout)
	for i := range healthy + bad {
		recv := newReceiver(b, false)
		r.webhook(b, recv, 0, r.types[i])
		if i >= healthy {
			recv.hang.Store(true)
		}
	}
	types := r.types[:healthy]
	if withBad {
		types = r.types
	}
	// Round-robin over 10 types gives the bad ones 2 in 10 events; over 8
	// it gives them none. Either way the healthy ones get healthyEvents.
	events := roundRobin(healthyEvents*len(types)/healthy, types)
	out := r.followOutcomes(b)
	r.env.StartDispatcher(b)
	start := time.Now()
	r.publishAll(b, events)
	end := out.waitSucceeded(b, int64(healthyEvents), 30*time.Minute)
	return float64(healthyEvents) / end.Sub(start).Seconds()
}
