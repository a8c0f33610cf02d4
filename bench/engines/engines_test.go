package engines

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	bbolt "go.etcd.io/bbolt"
)

const writers = 64

var value200 = []byte(strings.Repeat("x", 200))

// run drives append from 64 goroutines until b.N appends are done and
// reports throughput and latency. Keys are a global sequence, as in an
// append-only log.
func run(b *testing.B, appendOne func(key []byte) error) {
	var seq atomic.Uint64
	lat := make([][]time.Duration, writers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			for {
				n := seq.Add(1)
				if n > uint64(b.N) {
					return
				}
				key := binary.BigEndian.AppendUint64(nil, n)
				t0 := time.Now()
				if err := appendOne(key); err != nil {
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
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(float64(len(all))*p))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkPebbleSync: each writer does a Set with pebble.Sync; Pebble's
// commit pipeline groups concurrent writers into one WAL fsync.
func BenchmarkPebbleSync(b *testing.B) {
	db, err := pebble.Open(filepath.Join(b.TempDir(), "pebble"), &pebble.Options{Logger: quiet{}})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	run(b, func(key []byte) error { return db.Set(key, value200, pebble.Sync) })
}

// BenchmarkBoltBatch: each writer calls DB.Batch, bbolt's own group
// commit, with MaxBatchSize at the writer count (the default of 1000 would
// make every batch wait out MaxBatchDelay).
func BenchmarkBoltBatch(b *testing.B) {
	db := openBolt(b)
	db.MaxBatchSize = writers
	run(b, func(key []byte) error {
		return db.Batch(func(tx *bbolt.Tx) error { return tx.Bucket(bucket).Put(key, value200) })
	})
}

// BenchmarkBoltBatchDefault is BenchmarkBoltBatch with bbolt's default
// MaxBatchSize (1000) and MaxBatchDelay (10 ms).
func BenchmarkBoltBatchDefault(b *testing.B) {
	db := openBolt(b)
	run(b, func(key []byte) error {
		return db.Batch(func(tx *bbolt.Tx) error { return tx.Bucket(bucket).Put(key, value200) })
	})
}

var bucket = []byte("log")

func openBolt(b *testing.B) *bbolt.DB {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "bolt.db"), 0o600, &bbolt.Options{
		NoFreelistSync: true, FreelistType: bbolt.FreelistMapType, InitialMmapSize: 1 << 30,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return db
}

// quiet keeps Pebble's informational logging out of the benchmark output.
type quiet struct{}

func (quiet) Infof(string, ...any)         {}
func (quiet) Errorf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
func (quiet) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }
