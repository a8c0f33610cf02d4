package bolt

import (
	"sync"

	"github.com/webhookd/webhookd/eventstore"
)

// recentRecords is how many of the newest records the store keeps in
// memory for subscriptions.
const recentRecords = 2048

// recent holds the newest committed records, in position order, so a
// subscription at the head of the log (the projection runner, the
// operational reactor) takes what the last commits wrote from memory
// instead of reading each record back from the file and copying it out:
// a read transaction, a seek and an allocation per record, for records
// the writer had in hand a moment before. A subscription further behind
// reads the file as before. Positions are contiguous (every append takes
// the next one), so the ring maps a position to its slot.
//
// The records' Data and Metadata live in the committing transaction's
// arena, which nothing writes again once the commit is done; subscribers
// share them and must not modify them.
type recent struct {
	mu          sync.RWMutex
	ring        []eventstore.RecordedEvent
	first, last eventstore.Position // the positions held; none while last < first
}

func newRecent() *recent {
	return &recent{ring: make([]eventstore.RecordedEvent, recentRecords), first: 1}
}

// add keeps the records of a commit that succeeded. Called by the writer
// after the commit and before it wakes subscribers, so a subscriber woken
// by a commit finds its records here.
func (r *recent) add(recs []eventstore.RecordedEvent) {
	if len(recs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last < r.first || recs[0].Position != r.last+1 {
		r.first = recs[0].Position // a gap (first commit, or after a reset): start over
	}
	for _, rec := range recs {
		r.ring[int(uint64(rec.Position)%recentRecords)] = rec
	}
	r.last = recs[len(recs)-1].Position
	if r.last-r.first >= recentRecords {
		r.first = r.last - recentRecords + 1
	}
}

// reset forgets every record: retention removed some from the file, and a
// subscriber must not be handed them from here.
func (r *recent) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.ring {
		r.ring[i] = eventstore.RecordedEvent{}
	}
	r.first = r.last + 1
}

// after returns, as readPage does, up to limit records after position
// after that match filter, looking at no more than scan, and the position
// of the last one looked at. ok is false when the records right after
// after are not held (the caller reads the file); an empty page with ok
// means nothing newer has been committed.
func (r *recent) after(after eventstore.Position, limit, scan int, filter eventstore.Filter) (page []eventstore.RecordedEvent, last eventstore.Position, ok bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.last < r.first || after+1 < r.first {
		return nil, after, false
	}
	last = after
	for p := after + 1; p <= r.last && scan > 0 && len(page) < limit; p++ {
		scan--
		rec := r.ring[int(uint64(p)%recentRecords)]
		last = p
		if filter.Match(rec.Type) {
			page = append(page, rec)
		}
	}
	return page, last, true
}
