package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
)

// BenchmarkAttemptHistory measures the cost of one attempt against the
// number of attempts the delivery already has: BENCH_ATTEMPT_DELIVERIES
// deliveries (200 by default) are given that many failed attempts, each
// followed by a retry due at once, and the dispatcher then makes one more
// attempt of each, which succeeds. The CPU per attempt should not grow
// with the history.
func BenchmarkAttemptHistory(b *testing.B) {
	for _, earlier := range []int{1, 200} {
		b.Run(fmt.Sprintf("earlier-%d", earlier), func(b *testing.B) { benchAttemptHistory(b, earlier) })
	}
}

func benchAttemptHistory(b *testing.B, earlier int) {
	n := envInt("BENCH_ATTEMPT_DELIVERIES", 200)
	r := newRig(b, 1, 0)
	recv := newReceiver(b, false)
	v := r.webhook(b, recv, 0, r.types[0])
	r.publishAll(b, roundRobin(n, r.types))
	ctx := context.Background()
	past := time.Now().UTC().Add(-time.Hour)
	var last eventstore.Position
	recs, err := r.env.Store.ReadAll(ctx, 0, 1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range recs {
		if rec.Type != (domain.MessagePublished{}).EventType() {
			continue
		}
		msgID, _ := domain.MessageIDFromStream(rec.Stream)
		id := domain.DeliveryIDFor(msgID, v.ID)
		events := []eventstore.Event{domain.DeliveryScheduled{DeliveryID: id, MessageID: msgID, WebhookID: v.ID,
			AccountID: account, MessageType: r.types[0], ScheduledAt: past, At: past}}
		for i := 1; i <= earlier; i++ {
			events = append(events,
				domain.DeliveryAttempted{DeliveryID: id, WebhookID: v.ID, Attempt: i, At: past, StatusCode: 500, LatencyMs: 1},
				domain.DeliveryRetryScheduled{DeliveryID: id, WebhookID: v.ID, Attempt: i + 1, DueAt: past, At: past})
		}
		res, err := aggregate.Append(ctx, r.env.Store, r.env.Codec, domain.DeliveryStream(id), eventstore.NoStream, events...)
		if err != nil {
			b.Fatal(err)
		}
		last = res.Position
	}
	waitApplied(b, r, last)
	m := newMeter(b)
	out := r.followOutcomes(b)
	b.ResetTimer()
	u0 := m.sample()
	r.env.StartDispatcher(b)
	out.waitSucceeded(b, int64(n), 10*time.Minute)
	b.StopTimer()
	use := m.since(u0)
	use.report(b, n, "attempt")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d attempts on deliveries with %d earlier attempts: %.0f µs CPU per attempt", n, earlier, use.cpuUS/float64(n))
}

// waitApplied returns when the read models have applied the log up to pos.
func waitApplied(tb testing.TB, r *rig, pos eventstore.Position) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for r.env.Runner.Position() < pos {
		if time.Now().After(deadline) {
			tb.Fatalf("read models at %d, want %d", r.env.Runner.Position(), pos)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
