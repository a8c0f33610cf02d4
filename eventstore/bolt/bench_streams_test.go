package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

// BenchmarkAppendNewStreams is the delivery workload's shape: 64 writers,
// durable, each append of 200-byte events to a stream of its own that did
// not exist (messages and deliveries), so the stream index grows by one
// stream per append and every flush of it writes thousands of streams.
// It reports the append latency's p99 and maximum, where a flush that
// blocks appends shows.
func BenchmarkAppendNewStreams(b *testing.B) {
	const writers = 64
	s := mustOpen(b, filepath.Join(b.TempDir(), "events.db"), bolt.Options{SweepInterval: -1})
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for i := 0; left.Add(-1) >= 0; i++ {
				e := eventstore.EventData{ID: uuid.NewString(), Type: "bench.appended.v1", Data: payload200}
				t0 := time.Now()
				if _, err := s.Append(ctx, fmt.Sprintf("bench-%d-%d", w, i), eventstore.NoStream, e); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(ms(percentile(all, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(all, 0.99)), "p99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(0, "ns/op")
}
