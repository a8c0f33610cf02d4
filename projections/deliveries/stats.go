package deliveries

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections"
)

var (
	bucketStats             = []byte("stats")                 // webhook 0 minuteUnix -> minuteStats
	bucketStatsOwners       = []byte("stats_owners")          // webhook -> account
	bucketStatsTestDelivery = []byte("stats_test_deliveries") // delivery id -> 1, for test deliveries
)

// Latency histogram: bucket 0 holds [0, 1 ms]; buckets 1..latencyBuckets-1
// are log-spaced up to 30 s, each about 1.4 times as wide as the one
// before, and the last also takes anything slower. A fixed layout lets
// minutes be added together and quantiles be interpolated within one
// bucket's width.
const (
	latencyBuckets = 32
	latencyMin     = time.Millisecond
	latencyMax     = 30 * time.Second
)

// latencyBounds[i] is the upper bound of bucket i.
var latencyBounds = func() [latencyBuckets]time.Duration {
	var b [latencyBuckets]time.Duration
	ratio := float64(latencyMax) / float64(latencyMin)
	for i := range b {
		b[i] = time.Duration(float64(latencyMin) * math.Pow(ratio, float64(i)/float64(latencyBuckets-1)))
	}
	b[latencyBuckets-1] = latencyMax
	return b
}()

func latencyBucket(d time.Duration) int {
	for i, ub := range latencyBounds {
		if d <= ub {
			return i
		}
	}
	return latencyBuckets - 1
}

// minuteStats is one webhook's minute: attempts started in it, those that
// succeeded, and their latencies.
type minuteStats struct {
	Attempts, Succeeded uint64
	Latency             [latencyBuckets]uint64
}

func (m *minuteStats) add(o minuteStats) {
	m.Attempts += o.Attempts
	m.Succeeded += o.Succeeded
	for i := range m.Latency {
		m.Latency[i] += o.Latency[i]
	}
}

// encode writes uvarints; most histogram buckets are zero, so a minute
// takes a few dozen bytes.
func (m minuteStats) encode() []byte {
	buf := make([]byte, 0, 2+latencyBuckets+16)
	buf = binary.AppendUvarint(buf, m.Attempts)
	buf = binary.AppendUvarint(buf, m.Succeeded)
	for _, n := range m.Latency {
		buf = binary.AppendUvarint(buf, n)
	}
	return buf
}

func decodeMinuteStats(raw []byte) (minuteStats, error) {
	var m minuteStats
	fields := make([]*uint64, 0, 2+latencyBuckets)
	fields = append(fields, &m.Attempts, &m.Succeeded)
	for i := range m.Latency {
		fields = append(fields, &m.Latency[i])
	}
	for _, f := range fields {
		v, n := binary.Uvarint(raw)
		if n <= 0 {
			return m, fmt.Errorf("read model: stats: truncated minute record")
		}
		*f, raw = v, raw[n:]
	}
	return m, nil
}

// AttemptStats aggregates delivery attempts per webhook and minute: counts and a
// latency histogram, from which any window's success rate and latency
// quantiles are computed without reading deliveries. Test deliveries are
// left out: they measure a setup being tried, not the endpoint's service.
//
// A batch adds its attempts up per webhook and minute in memory and
// writes each minute once, when the runner flushes it: every attempt of a
// busy webhook lands in the same minute, whose decode and encode were
// made once per attempt before.
type AttemptStats struct {
	minutes map[string]minuteStats // statsKey -> what this batch adds; nil writes through
}

var _ projections.Batcher = (*AttemptStats)(nil)

// BeginBatch implements projections.Batcher.
func (s *AttemptStats) BeginBatch() { s.minutes = map[string]minuteStats{} }

// FlushBatch implements projections.Batcher: each minute the batch
// touched is read, added to and written once, in key order.
func (s *AttemptStats) FlushBatch(tx *bbolt.Tx) error {
	b := tx.Bucket(bucketStats)
	for _, key := range slices.Sorted(maps.Keys(s.minutes)) {
		m, err := storedMinute(b, []byte(key))
		if err != nil {
			return err
		}
		m.add(s.minutes[key])
		if err := b.Put([]byte(key), m.encode()); err != nil {
			return err
		}
	}
	s.BeginBatch()
	return nil
}

// Name implements Projection.
func (AttemptStats) Name() string { return "stats" }

// Buckets implements Projection.
func (AttemptStats) Buckets() []string {
	return []string{string(bucketStats), string(bucketStatsOwners), string(bucketStatsTestDelivery)}
}

// Apply implements Projection. Attempts count in the minute of the attempt
// and successes in the minute of the success, which is the same minute: a
// success is appended together with its attempt and stamped alike.
func (s *AttemptStats) Apply(tx *bbolt.Tx, rec eventstore.RecordedEvent, ev eventstore.Event) ([]projections.Change, error) {
	if r, ok := ev.(domain.DeliveryAttemptRecorded); ok {
		return nil, s.applyAttemptRecorded(tx, r)
	}
	switch e := ev.(type) {
	case domain.DeliveryScheduled:
		owners := tx.Bucket(bucketStatsOwners)
		if owners.Get([]byte(e.WebhookID)) == nil {
			if err := owners.Put([]byte(e.WebhookID), []byte(e.AccountID)); err != nil {
				return nil, err
			}
		}
		if e.Test {
			return nil, tx.Bucket(bucketStatsTestDelivery).Put([]byte(e.DeliveryID), []byte{1})
		}
	case domain.DeliveryAttempted:
		if isTestDelivery(tx, e.DeliveryID) {
			return nil, nil
		}
		return nil, s.updateMinute(tx, e.WebhookID, e.At, func(m *minuteStats) {
			m.Attempts++
			m.Latency[latencyBucket(time.Duration(e.LatencyMs)*time.Millisecond)]++
		})
	case domain.DeliverySucceeded:
		if isTestDelivery(tx, e.DeliveryID) {
			return nil, nil
		}
		return nil, s.updateMinute(tx, e.WebhookID, e.At, func(m *minuteStats) { m.Succeeded++ })
	}
	return nil, nil
}

// applyAttemptRecorded counts an attempt recorded in one event. The event
// carries the test flag, the delivery's own (its state's, folded from the
// stream's scheduling), so unlike the attempts before it, it neither files
// nor looks up a test-delivery marker.
func (s *AttemptStats) applyAttemptRecorded(tx *bbolt.Tx, r domain.DeliveryAttemptRecorded) error {
	if r.OpensStream() {
		owners := tx.Bucket(bucketStatsOwners)
		if owners.Get([]byte(r.WebhookID)) == nil {
			if err := owners.Put([]byte(r.WebhookID), []byte(r.AccountID)); err != nil {
				return err
			}
		}
	}
	if r.Test {
		return nil
	}
	return s.updateMinute(tx, r.WebhookID, r.At, func(m *minuteStats) {
		m.Attempts++
		m.Latency[latencyBucket(time.Duration(r.LatencyMs)*time.Millisecond)]++
		if r.Result == domain.ResultSucceeded {
			m.Succeeded++
		}
	})
}

func isTestDelivery(tx *bbolt.Tx, id string) bool {
	return tx.Bucket(bucketStatsTestDelivery).Get([]byte(id)) != nil
}

// updateMinute changes the webhook's minute of at: in the batch's sums, or
// (outside a batch) in the bucket at once.
func (s *AttemptStats) updateMinute(tx *bbolt.Tx, webhookID string, at time.Time, change func(*minuteStats)) error {
	key := statsKey(webhookID, at)
	if s.minutes != nil {
		m := s.minutes[string(key)]
		change(&m)
		s.minutes[string(key)] = m
		return nil
	}
	b := tx.Bucket(bucketStats)
	m, err := storedMinute(b, key)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", webhookID, err)
	}
	change(&m)
	return b.Put(key, m.encode())
}

// storedMinute is the minute stored under key, zero when there is none.
func storedMinute(b *bbolt.Bucket, key []byte) (minuteStats, error) {
	raw := b.Get(key)
	if raw == nil {
		return minuteStats{}, nil
	}
	return decodeMinuteStats(raw)
}

func statsKey(webhookID string, at time.Time) []byte {
	k := make([]byte, 0, len(webhookID)+1+8)
	k = append(k, webhookID...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, uint64(at.Truncate(time.Minute).Unix()))
}
