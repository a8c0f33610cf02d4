package bolt

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/eventstore"
)

// maxBatchBytes bounds the encoded size of one group commit, so a burst of
// large events cannot make one transaction (and its memory) unbounded.
const maxBatchBytes = 32 << 20

// busyCommit and busyCommitLinger make group commits larger under load
// only: after a commit of at least busyCommit requests, the next one waits
// up to busyCommitLinger for more, so each commit (two fdatasyncs and a
// rewrite of every page it touches) carries more appends. A writer with a
// few appenders (one webhook's lane, a paced publisher) commits at once.
// A commit costs about six pages whatever it carries (log leaf and branch,
// root, freelist, meta), so at 8 rather than 16 the attempts of ten busy
// webhooks (about 9 a commit) share commits twice as large: 8.9-9.3 to
// 7.6-7.7 KB written per delivery, one webhook and paced latency unchanged
// (docs/performance.md).
const (
	busyCommit       = 8
	busyCommitLinger = 300 * time.Microsecond
)

// flushInterval bounds how long appended events stay out of the on-disk
// stream index (see index.go).
const flushInterval = 50 * time.Millisecond

// writer is the only goroutine that writes events. It takes one request,
// drains whatever else is already queued, and commits the lot in one
// transaction: the group commit that makes 64 writers cost one fsync.
// When the stream index is due for a flush (flushInterval has passed or
// flushEvents are pending), the next group commit writes it too, so a
// flush never costs appends a commit of their own; only an idle writer
// flushes in a transaction by itself.
func (s *Store) writer(head uint64, window *idWindow) {
	defer s.writerWG.Done()
	batch := make([]*appendReq, 0, s.maxBatch)
	replies := make([]appendReply, 0, s.maxBatch)
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	flushDue := false
	busy := false // the last commit gathered busyCommit requests or more
	for {
		var req *appendReq
		select {
		case r, ok := <-s.reqs:
			if !ok {
				s.flushLogged(head)
				return
			}
			req = r
		case <-tick.C:
			if len(s.reqs) == 0 {
				s.flushLogged(head)
			} else {
				flushDue = true // the next commit carries it
			}
			continue
		case done := <-s.flushReqs:
			done <- s.flush(head)
			continue
		}
		batch = append(batch[:0], req)
		size := req.size
		var linger <-chan time.Time
		if busy {
			linger = time.After(busyCommitLinger)
		}
	drain:
		for len(batch) < s.maxBatch && size < maxBatchBytes {
			var r *appendReq
			var ok bool
			select {
			case r, ok = <-s.reqs:
			default:
				if linger == nil {
					break drain
				}
				select {
				case r, ok = <-s.reqs:
				case <-linger:
					break drain
				}
			}
			if !ok {
				break drain
			}
			batch = append(batch, r)
			size += r.size
		}
		busy = len(batch) >= busyCommit
		flushDue = flushDue || s.pending.events >= flushEvents
		var flushed bool
		replies, flushed = s.commit(batch, replies[:0], size, &head, window, flushDue)
		flushDue = flushDue && !flushed
	}
}

// flushLogged flushes the stream index; a failure is logged and retried
// at the next flush, as the events stay pending in memory meanwhile.
func (s *Store) flushLogged(head uint64) {
	if err := s.flush(head); err != nil {
		s.log.Error("event store index flush failed", "file", s.path, "err", err)
	}
}

// commit applies batch in one transaction and answers every request. A
// request that fails its own checks gets its own error and writes nothing;
// the rest still commit. Only a failure of the transaction itself fails
// them all. With flush set, the transaction first writes the pending
// stream index (every entry up to head, all committed before), and
// reports whether that was done.
func (s *Store) commit(batch []*appendReq, replies []appendReply, size int, head *uint64, window *idWindow, flush bool) ([]appendReply, bool) {
	next := *head
	var w *txWriter
	var names []string
	if flush {
		names = s.pending.names()
	}
	err := s.update(func(tx *bbolt.Tx) error {
		if flush {
			if err := s.writeIndex(tx, names, *head); err != nil {
				return err
			}
		}
		w = newTxWriter(s, tx, size, window, s.now())
		for _, req := range batch {
			res, reqErr, err := w.apply(req, &next)
			if err != nil {
				return err
			}
			replies = append(replies, appendReply{res: res, err: reqErr})
		}
		return w.meta.Put(keyHead, putUint64(next))
	})
	if err != nil {
		if w != nil {
			window.undo(w.added)
		}
		s.pending.undo(*head)
		replies = replies[:0]
		for _, req := range batch {
			replies = append(replies, appendReply{err: fmt.Errorf("append %s: commit: %w", req.stream, err)})
		}
	} else if flush {
		s.pending.forget(names, *head)
	}
	if err == nil && w != nil {
		s.recent.add(w.fresh) // before the replies: a subscriber woken next finds them
	}
	for i, req := range batch {
		req.done <- replies[i]
	}
	if err == nil && next != *head {
		*head = next
		s.broadcast()
	}
	return replies, err == nil && flush
}

// txWriter holds the buckets of one write transaction and an arena for the
// keys and values it puts: bbolt keeps the caller's slices until commit, so
// they must not be reused within the transaction. It writes log records
// only; stream index entries go to the pending index (index.go).
type txWriter struct {
	s                  *Store
	tx                 *bbolt.Tx
	log, streams, meta *bbolt.Bucket
	window             *idWindow
	added              int // window entries added by this transaction
	at                 time.Time
	arena              []byte
	// fresh are the records this transaction wrote, for the store's recent
	// records once it commits (recent.go); their payloads are copied into
	// freshData, one buffer for the whole commit.
	fresh     []eventstore.RecordedEvent
	freshData []byte
	freshCap  int // the commit's encoded size: enough for every payload
}

func newTxWriter(s *Store, tx *bbolt.Tx, size int, window *idWindow, at time.Time) *txWriter {
	w := &txWriter{
		s: s, tx: tx, window: window, at: at,
		log: tx.Bucket(bucketLog), streams: tx.Bucket(bucketStreams), meta: tx.Bucket(bucketMeta),
		arena: make([]byte, 0, size+4096), freshCap: size,
	}
	// Positions only ever grow, so full pages never need room for inserts:
	// packing them halves the log's pages to write and spill.
	w.log.FillPercent = 1.0
	return w
}

// alloc returns n bytes from the arena, growing it (without moving what was
// handed out) when full.
func (w *txWriter) alloc(n int) []byte {
	if cap(w.arena)-len(w.arena) < n {
		w.arena = make([]byte, 0, max(n, 64<<10))
	}
	start := len(w.arena)
	w.arena = w.arena[:start+n]
	return w.arena[start : start+n : start+n]
}

// apply checks and writes one request. reqErr refuses this request only;
// err aborts the whole transaction.
func (w *txWriter) apply(req *appendReq, next *uint64) (res eventstore.AppendResult, reqErr, err error) {
	last, exists := w.lastRevision(req.stream)
	if req.expected.IsAny() || req.expected.IsStreamExists() {
		if res, ok := w.replayedInWindow(req); ok {
			return res, nil, nil
		}
	}
	if !req.expected.Satisfied(last, exists) {
		if res, ok, err := w.replayedInStream(req, last, exists); err != nil || ok {
			return res, nil, err
		}
		return res, &eventstore.WrongExpectedVersionError{Stream: req.stream, Expected: req.expected, ActualExists: exists, Actual: last}, nil
	}
	for _, id := range req.ids {
		if e, ok := w.window.get(id); ok {
			return res, fmt.Errorf("append %s: %w: %s is %s@%d: %w", req.stream, errDuplicateID, id, e.stream, e.revision, eventstore.ErrInvalidEvent), nil
		}
	}
	rev := uint64(0)
	if exists {
		rev = last + 1
	}
	for i := range req.events {
		*next++
		pos := w.alloc(8)
		binary.BigEndian.PutUint64(pos, *next)
		e := &req.events[i]
		rec := appendRecord(w.alloc(recordSize(req.stream, e))[:0], req.stream, rev, req.ids[i], w.at, e)
		if err := w.log.Put(pos, rec); err != nil {
			return res, nil, fmt.Errorf("put log %d: %w", *next, err)
		}
		w.keep(req, i, rev, *next)
		w.s.pending.add(req.stream, rev, *next)
		w.window.add(req.ids[i], idEntry{stream: req.stream, revision: rev, position: *next})
		w.added++
		rev++
	}
	last = rev - 1
	return eventstore.AppendResult{NextRevision: last, Position: eventstore.Position(*next)}, nil, nil
}

// keep notes the record of req's event i, as a read of the file would
// return it (copyOut), for the recent records.
func (w *txWriter) keep(req *appendReq, i int, rev, pos uint64) {
	e := &req.events[i]
	rec := eventstore.RecordedEvent{
		ID: req.ids[i].String(), Type: e.Type, Stream: req.stream, Revision: rev,
		Position: eventstore.Position(pos), Time: time.Unix(0, w.at.UnixNano()).UTC(),
	}
	if n := len(e.Data) + len(e.Metadata); n > 0 {
		if cap(w.freshData)-len(w.freshData) < n {
			w.freshData = make([]byte, 0, max(n, w.freshCap))
		}
		start := len(w.freshData)
		w.freshData = append(append(w.freshData, e.Data...), e.Metadata...)
		if len(e.Data) > 0 {
			rec.Data = w.freshData[start : start+len(e.Data) : start+len(e.Data)]
		}
		if len(e.Metadata) > 0 {
			rec.Metadata = w.freshData[start+len(e.Data) : start+n : start+n]
		}
	}
	w.fresh = append(w.fresh, rec)
}

// replayedInWindow reports whether req repeats, in order, events of the
// same stream that the ID window holds, and if so the original result.
func (w *txWriter) replayedInWindow(req *appendReq) (eventstore.AppendResult, bool) {
	var res eventstore.AppendResult
	var first uint64
	for i, id := range req.ids {
		e, ok := w.window.get(id)
		if i == 0 {
			first = e.revision
		}
		if !ok || e.stream != req.stream || e.revision != first+uint64(i) {
			return res, false
		}
		res = eventstore.AppendResult{NextRevision: e.revision, Position: eventstore.Position(e.position)}
	}
	return res, true
}

// replayedInStream reports whether the stream already holds req's events
// right after the expected revision (NoStream: from revision 0), which
// makes a retried Exact or NoStream append idempotent however old it is.
func (w *txWriter) replayedInStream(req *appendReq, last uint64, exists bool) (eventstore.AppendResult, bool, error) {
	var res eventstore.AppendResult
	from := uint64(0)
	if exact, ok := req.expected.ExactRevision(); ok {
		from = exact + 1
	} else if !req.expected.IsNoStream() {
		return res, false, nil
	}
	if !exists || last < from || last-from+1 < uint64(len(req.ids)) {
		return res, false, nil
	}
	for i, id := range req.ids {
		pos := w.position(req.stream, from+uint64(i))
		if pos == nil {
			return res, false, nil // removed by retention: cannot tell
		}
		r, err := w.s.decodeAt(w.tx, pos, w.log.Get(pos))
		if err != nil {
			return res, false, err
		}
		if r.id != id {
			return res, false, nil
		}
		res = eventstore.AppendResult{NextRevision: from + uint64(i), Position: eventstore.Position(getUint64(pos))}
	}
	return res, true, nil
}

// lastRevision returns the stream's last revision: from the pending index
// if it was written since the last flush, else from the on-disk index.
func (w *txWriter) lastRevision(stream string) (uint64, bool) {
	if last, ok := w.s.pending.last(stream); ok {
		return last, true
	}
	head := w.streams.Get(streamHeadKey(stream))
	return getUint64(head), head != nil
}

// position returns the log key of one revision of a stream, or nil.
func (w *txWriter) position(stream string, rev uint64) []byte {
	if pos, ok := w.s.pending.position(stream, rev); ok {
		return putUint64(pos)
	}
	return w.streams.Get(appendStreamKey(nil, stream, rev))
}

// decodeAt decodes the record stored under key k, reporting damage as a
// CorruptionError with the record's byte offset in the file when the value
// lies in bbolt's memory map.
func (s *Store) decodeAt(tx *bbolt.Tx, k, v []byte) (recordView, error) {
	r, err := decodeRecord(v)
	if err != nil {
		return r, &eventstore.CorruptionError{File: s.path, Offset: fileOffset(tx, v),
			Reason: fmt.Sprintf("record at position %d: %v", getUint64(k), err)}
	}
	return r, nil
}

// fileOffset maps a value slice back to its offset in the file, or -1 if it
// does not point into the map (a page modified by this transaction).
func fileOffset(tx *bbolt.Tx, v []byte) int64 {
	if len(v) == 0 {
		return -1
	}
	base := tx.DB().Info().Data
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	if p < base || p >= base+uintptr(tx.Size()) {
		return -1
	}
	return int64(p - base)
}
