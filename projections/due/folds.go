package due

import (
	"sync"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// maxFolds bounds the delivery states folds keeps: about 300 bytes each.
const maxFolds = 16 << 10

// Snapshot is a delivery's state as its stream stood when a retry's due
// entry was filed: State.Version events, the last at Position. The
// dispatcher starts the attempt from it and reads only what the stream
// gained since, so an attempt costs the same after 200 earlier attempts
// as after one.
type Snapshot struct {
	State    domain.DeliveryState `json:"s"`
	Position eventstore.Position  `json:"p"`
}

// folds keeps each open delivery's state folded from the delivery events
// the projection applies, in order and without a gap, so a retry's entry
// can carry its snapshot. It is only a cache: a delivery it does not hold
// (evicted, or first seen mid-stream after a restart) gets an entry
// without a snapshot, and its attempt reads the whole stream instead.
type folds struct {
	mu sync.Mutex
	m  map[string]Snapshot
}

// apply folds ev (the event at rec) into the delivery's state and
// returns the state after it, if the delivery's whole history was folded.
func (f *folds) apply(id string, rec eventstore.RecordedEvent, ev eventstore.Event) (Snapshot, bool) {
	if f == nil {
		return Snapshot{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]Snapshot{}
	}
	s, ok := f.m[id]
	if rec.Revision == 0 {
		s, ok = Snapshot{}, true // a stream's first event: start afresh (as in a rebuild)
	}
	if !ok || s.State.Version != rec.Revision {
		delete(f.m, id) // a gap: what came before was not folded here
		return Snapshot{}, false
	}
	s = Snapshot{State: domain.EvolveDelivery(s.State, ev), Position: rec.Position}
	if s.State.Final() {
		delete(f.m, id)
		return s, true
	}
	if _, held := f.m[id]; !held && len(f.m) >= maxFolds {
		for other := range f.m { // any one: a miss costs one full read
			delete(f.m, other)
			break
		}
	}
	f.m[id] = s
	return s, true
}

// forget drops the delivery's state: it has finished.
func (f *folds) forget(id string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, id)
}
