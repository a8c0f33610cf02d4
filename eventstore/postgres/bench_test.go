package postgres

import (
	"context"
	"fmt"
	"path/filepath"
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

// BenchmarkAppend64Writers measures durable appends of 200-byte events
// from 64 concurrent writers, each to its own stream, on the embedded
// store (fsync per group commit) and on PostgreSQL (synchronous_commit on)
// in the same run:
//
//	go test ./eventstore/postgres -run '^$' -bench Append64Writers -benchtime 20000x
func BenchmarkAppend64Writers(b *testing.B) {
	b.Run("bolt", func(b *testing.B) {
		s, err := bolt.Open(filepath.Join(b.TempDir(), "events.db"), bolt.Options{SweepInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchAppend(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		benchAppend(b, mustOpen(b, newDatabase(b), Options{SweepInterval: -1}))
	})
}

func benchAppend(b *testing.B, s eventstore.Store) {
	const writers = 64
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("bench-%d", w)
			for left.Add(-1) >= 0 {
				e := eventstore.EventData{ID: uuid.NewString(), Type: "bench.appended.v1", Data: payload200}
				if _, err := s.Append(ctx, stream, eventstore.Any, e); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
}
