package delivery

import (
	"container/heap"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// holdQueue orders the holds that end by themselves, so that each pass of
// the dispatcher releases only those that have ended instead of looking
// at every delivery held: a hold first waits for the read models to apply
// its position (byPos), then for its time (byTime). Entries are dropped
// lazily: one whose hold has since been replaced (its seq no longer
// matches) is skipped when it comes up.
type holdQueue struct {
	byPos  heldHeap
	byTime heldHeap
	seq    uint64
}

// held is a queued hold: key is a position in byPos and a time in
// nanoseconds in byTime.
type held struct {
	key uint64
	id  string
	seq uint64
}

type heldHeap []held

func (h heldHeap) Len() int           { return len(h) }
func (h heldHeap) Less(i, j int) bool { return h[i].key < h[j].key }
func (h heldHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)        { *h = append(*h, x.(held)) }
func (h *heldHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// setHold holds a delivery; a hold that is not a running attempt is
// queued for release. d.mu is held.
func (d *Dispatcher) setHold(id string, h hold) {
	q := &d.holds
	q.seq++
	h.seq = q.seq
	d.inflight[id] = h
	if !h.running {
		heap.Push(&q.byPos, held{key: uint64(h.pos), id: id, seq: h.seq})
	}
}

// releaseHolds drops every hold that has ended at now with the read
// models at applied. d.mu is held.
func (d *Dispatcher) releaseHolds(applied eventstore.Position, now time.Time) {
	q := &d.holds
	wakeAll := false
	for q.byPos.Len() > 0 && q.byPos[0].key <= uint64(applied) {
		e := heap.Pop(&q.byPos).(held)
		if h, ok := d.inflight[e.id]; ok && h.seq == e.seq {
			e.key = uint64(max(h.until.UnixNano(), 0))
			heap.Push(&q.byTime, e)
		}
	}
	for q.byTime.Len() > 0 && q.byTime[0].key <= uint64(max(now.UnixNano(), 0)) {
		e := heap.Pop(&q.byTime).(held)
		if h, ok := d.inflight[e.id]; ok && h.seq == e.seq && h.released(applied, now) {
			delete(d.inflight, e.id)
			// The lane the hold kept waiting gets another look; a hold
			// without one (held back after a crash) wakes every lane, once.
			if h.lane != "" {
				d.dirty[h.lane] = true
			} else {
				wakeAll = true
			}
		}
	}
	if wakeAll {
		for id := range d.lanes {
			d.dirty[id] = true
		}
	}
}

// nextRelease returns when the first hold waiting only for its time ends;
// zero when none does. d.mu is held.
func (d *Dispatcher) nextRelease() time.Time {
	if d.holds.byTime.Len() == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(d.holds.byTime[0].key)).UTC()
}
