package bolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

// payload200 is the 200-byte event body of the design's append target.
var payload200 = []byte(`{"pad":"` + strings.Repeat("x", 200-11) + `"}`)

// BenchmarkAppend64Writers measures durable (fsync) appends of 200-byte
// events from 64 concurrent writers, each to its own stream: the design's
// target is 50,000 events/s with p99 at most 10 ms.
func BenchmarkAppend64Writers(b *testing.B) {
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
			stream := fmt.Sprintf("bench-%d", w)
			for left.Add(-1) >= 0 {
				e := eventstore.EventData{ID: uuid.NewString(), Type: "bench.appended.v1", Data: payload200}
				t0 := time.Now()
				if _, err := s.Append(ctx, stream, eventstore.Any, e); err != nil {
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
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// catchUpFixture is a store file holding catchUpEvents events, built once
// per test binary run and removed by TestMain.
var (
	catchUpOnce sync.Once
	catchUpDir  string
	catchUpPath string
	catchUpErr  error
)

const catchUpEvents = 1_000_000

func buildCatchUpFixture() {
	catchUpDir, catchUpErr = os.MkdirTemp("", "bolt-catchup-*")
	if catchUpErr != nil {
		return
	}
	catchUpPath = filepath.Join(catchUpDir, "events.db")
	s, err := bolt.Open(catchUpPath, bolt.Options{NoSync: true, SweepInterval: -1})
	if err != nil {
		catchUpErr = err
		return
	}
	defer s.Close()
	const batch = 1000
	evs := make([]eventstore.EventData, batch)
	for i := range catchUpEvents / batch {
		for j := range evs {
			evs[j] = eventstore.EventData{ID: uuid.NewString(), Type: "bench.appended.v1", Data: payload200}
		}
		if _, err := s.Append(context.Background(), fmt.Sprintf("fixture-%d", i%1000), eventstore.Any, evs...); err != nil {
			catchUpErr = err
			return
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if catchUpDir != "" {
		_ = os.RemoveAll(catchUpDir)
	}
	os.Exit(code)
}

// BenchmarkSubscribeCatchUp measures how fast a subscription reads
// history: b.N events out of a 1,000,000-event log of 200-byte events.
func BenchmarkSubscribeCatchUp(b *testing.B) {
	catchUpOnce.Do(buildCatchUpFixture)
	if catchUpErr != nil {
		b.Fatalf("build fixture: %v", catchUpErr)
	}
	s := mustOpen(b, catchUpPath, bolt.Options{SweepInterval: -1})
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for read := 0; read < b.N; {
		sub, err := s.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{})
		if err != nil {
			b.Fatal(err)
		}
		n := min(b.N-read, catchUpEvents)
		for range n {
			if _, err := sub.Next(ctx); err != nil {
				b.Fatal(err)
			}
		}
		read += n
		_ = sub.Close()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkOpen measures opening the 1,000,000-event fixture: the restart
// cost (rebuilding the ID window and the pending index from the log's tail).
func BenchmarkOpen(b *testing.B) {
	catchUpOnce.Do(buildCatchUpFixture)
	if catchUpErr != nil {
		b.Fatalf("build fixture: %v", catchUpErr)
	}
	for b.Loop() {
		s, err := bolt.Open(catchUpPath, bolt.Options{SweepInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
