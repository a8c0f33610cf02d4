package delivery

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// The hold queue releases exactly the holds a scan of every hold would,
// pass after pass, while holds are set, replaced and left running.
func TestHoldQueueReleasesWhatAScanWould(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	d := NewDispatcher()
	scan := map[string]hold{}
	t0 := time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)
	applied := eventstore.Position(0)
	for step := range 2000 {
		now := t0.Add(time.Duration(step) * time.Millisecond)
		for range 5 {
			id := fmt.Sprintf("d%d", rnd.IntN(300))
			h := hold{running: rnd.IntN(4) == 0, pos: applied + eventstore.Position(rnd.IntN(50))}
			if rnd.IntN(2) == 0 {
				h.until = now.Add(time.Duration(rnd.IntN(40)) * time.Millisecond)
			}
			d.setHold(id, h)
			h.seq = d.inflight[id].seq
			scan[id] = h
		}
		applied += eventstore.Position(rnd.IntN(3))
		d.releaseHolds(applied, now)
		for id, h := range scan {
			if h.released(applied, now) {
				delete(scan, id)
			}
		}
		if len(scan) != len(d.inflight) {
			t.Fatalf("step %d: queue holds %d deliveries, a scan %d", step, len(d.inflight), len(scan))
		}
		for id := range scan {
			if _, ok := d.inflight[id]; !ok {
				t.Fatalf("step %d: %s released early", step, id)
			}
		}
	}
}

// BenchmarkReleaseHolds is one pass's release of holds with 100,000
// deliveries held (as after a restart with a long lag, or at a high
// fan-out), one of which ends per pass: the full scan the dispatcher used
// to make against the queue.
func BenchmarkReleaseHolds(b *testing.B) {
	const n = 100_000
	now := time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)
	fill := func() *Dispatcher {
		d := NewDispatcher()
		for i := range n {
			d.setHold(fmt.Sprintf("d%d", i), hold{pos: eventstore.Position(i + 1)})
		}
		return d
	}
	b.Run("scan", func(b *testing.B) {
		d := fill()
		applied := eventstore.Position(0)
		for b.Loop() {
			applied++
			for id, h := range d.inflight {
				if h.released(applied, now) {
					delete(d.inflight, id)
				}
			}
		}
	})
	b.Run("queue", func(b *testing.B) {
		d := fill()
		applied := eventstore.Position(0)
		for b.Loop() {
			applied++
			d.releaseHolds(applied, now)
		}
	})
}
