package bolt

import "github.com/google/uuid"

// idWindow remembers where the most recent events landed, by ID, so an
// append retried with expected revision Any can be recognised as a replay.
// It is EventStoreDB's approach: idempotency under Any is guaranteed within
// a bounded window of recent events, while appends with an exact expected
// revision are checked against the stream itself, without limit. Keeping it
// in memory spares every append a random insert into an on-disk ID index,
// which measured as the largest single cost of a commit (docs/store.md).
//
// Only the writer goroutine touches it.
type idWindow struct {
	m     map[uuid.UUID]idEntry
	ring  []ringSlot // insertion order, for eviction
	next  int
	count int
}

type ringSlot struct {
	id       uuid.UUID
	position uint64
}

type idEntry struct {
	stream   string
	revision uint64
	position uint64
}

func newIDWindow(size int) *idWindow {
	return &idWindow{m: make(map[uuid.UUID]idEntry, size), ring: make([]ringSlot, size)}
}

func (w *idWindow) get(id uuid.UUID) (idEntry, bool) {
	e, ok := w.m[id]
	return e, ok
}

// add records an event, evicting the oldest once the window is full.
func (w *idWindow) add(id uuid.UUID, e idEntry) {
	if len(w.ring) == 0 {
		return
	}
	if w.count == len(w.ring) {
		w.forget(w.ring[w.next])
	} else {
		w.count++
	}
	w.ring[w.next] = ringSlot{id, e.position}
	w.next = (w.next + 1) % len(w.ring)
	w.m[id] = e
}

// undo forgets the n most recently added events: those of a group commit
// whose transaction failed.
func (w *idWindow) undo(n int) {
	for ; n > 0 && w.count > 0; n-- {
		w.next = (w.next - 1 + len(w.ring)) % len(w.ring)
		w.forget(w.ring[w.next])
		w.count--
	}
}

// forget drops a slot's entry unless the ID was added again since (IDs are
// only unique within the window).
func (w *idWindow) forget(s ringSlot) {
	if e, ok := w.m[s.id]; ok && e.position == s.position {
		delete(w.m, s.id)
	}
}
