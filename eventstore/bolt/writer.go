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

// writer is the only goroutine that writes events. It takes one request,
// drains whatever else is already queued, and commits the lot in one
// transaction: the group commit that makes 64 writers cost one fsync.
func (s *Store) writer(head uint64) {
	defer s.writerWG.Done()
	batch := make([]*appendReq, 0, s.maxBatch)
	replies := make([]appendReply, 0, s.maxBatch)
	for req := range s.reqs {
		batch = append(batch[:0], req)
		size := req.size
	drain:
		for len(batch) < s.maxBatch && size < maxBatchBytes {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
				size += r.size
			default:
				break drain
			}
		}
		replies = s.commit(batch, replies[:0], size, &head)
	}
}

// commit applies batch in one transaction and answers every request. A
// request that fails its own checks gets its own error and writes nothing;
// the rest still commit. Only a failure of the transaction itself fails
// them all.
func (s *Store) commit(batch []*appendReq, replies []appendReply, size int, head *uint64) []appendReply {
	next := *head
	at := s.now()
	err := s.update(func(tx *bbolt.Tx) error {
		next = *head
		w := newTxWriter(s, tx, size)
		for _, req := range batch {
			res, reqErr, err := w.apply(req, &next, at)
			if err != nil {
				return err
			}
			replies = append(replies, appendReply{res: res, err: reqErr})
		}
		return w.meta.Put(keyHead, putUint64(next))
	})
	if err != nil {
		replies = replies[:0]
		for _, req := range batch {
			replies = append(replies, appendReply{err: fmt.Errorf("append %s: commit: %w", req.stream, err)})
		}
	}
	for i, req := range batch {
		req.done <- replies[i]
	}
	if err == nil && next != *head {
		*head = next
		s.broadcast()
	}
	return replies
}

// txWriter holds the buckets of one write transaction and an arena for the
// keys and values it puts: bbolt keeps the caller's slices until commit, so
// they must not be reused within the transaction.
type txWriter struct {
	s                                  *Store
	tx                                 *bbolt.Tx
	log, streams, streamIdx, ids, meta *bbolt.Bucket
	arena                              []byte
}

func newTxWriter(s *Store, tx *bbolt.Tx, size int) *txWriter {
	return &txWriter{
		s: s, tx: tx,
		log: tx.Bucket(bucketLog), streams: tx.Bucket(bucketStreams),
		streamIdx: tx.Bucket(bucketStreamIdx), ids: tx.Bucket(bucketIDs), meta: tx.Bucket(bucketMeta),
		arena: make([]byte, 0, size+4096),
	}
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
func (w *txWriter) apply(req *appendReq, next *uint64, at time.Time) (res eventstore.AppendResult, reqErr, err error) {
	st, exists := getStreamState(w.streams.Get([]byte(req.stream)))
	res, ok, err := w.idempotent(req)
	if err != nil || ok {
		return res, nil, err
	}
	if !req.expected.Satisfied(st.last, exists) {
		return res, &eventstore.WrongExpectedVersionError{Stream: req.stream, Expected: req.expected, ActualExists: exists, Actual: st.last}, nil
	}
	for _, id := range req.ids {
		if v := w.ids.Get(id[:]); v != nil {
			return res, fmt.Errorf("append %s: %w: %s at position %d: %w", req.stream, errDuplicateID, id, getUint64(v), eventstore.ErrInvalidEvent), nil
		}
	}
	rev := uint64(0)
	if exists {
		rev = st.last + 1
	}
	for i := range req.events {
		*next++
		pos := w.alloc(8)
		binary.BigEndian.PutUint64(pos, *next)
		e := &req.events[i]
		rec := appendRecord(w.alloc(recordSize(req.stream, e))[:0], req.stream, rev, req.ids[i], at, e)
		if err := w.log.Put(pos, rec); err != nil {
			return res, nil, fmt.Errorf("put log %d: %w", *next, err)
		}
		if err := w.streamIdx.Put(w.streamKey(req.stream, rev), pos); err != nil {
			return res, nil, fmt.Errorf("put stream index %s/%d: %w", req.stream, rev, err)
		}
		id := w.alloc(16)
		copy(id, req.ids[i][:])
		if err := w.ids.Put(id, pos); err != nil {
			return res, nil, fmt.Errorf("put id %s: %w", req.ids[i], err)
		}
		rev++
	}
	st.last = rev - 1
	if err := w.streams.Put(w.bytes(req.stream), putStreamState(w.alloc(16), st)); err != nil {
		return res, nil, fmt.Errorf("put stream %s: %w", req.stream, err)
	}
	return eventstore.AppendResult{NextRevision: st.last, Position: eventstore.Position(*next)}, nil, nil
}

// idempotent reports whether req repeats events already stored as the same
// sequence in the same stream, under a compatible expected revision, and if
// so the result of the original append.
func (w *txWriter) idempotent(req *appendReq) (eventstore.AppendResult, bool, error) {
	var res eventstore.AppendResult
	var first uint64
	for i, id := range req.ids {
		pv := w.ids.Get(id[:])
		if pv == nil {
			return res, false, nil
		}
		r, err := w.s.decodeAt(w.tx, pv, w.log.Get(pv))
		if err != nil {
			return res, false, err
		}
		if i == 0 {
			first = r.revision
		}
		if string(r.stream) != req.stream || r.revision != first+uint64(i) {
			return res, false, nil
		}
		res = eventstore.AppendResult{NextRevision: r.revision, Position: eventstore.Position(getUint64(pv))}
	}
	e := req.expected
	exact, isExact := e.ExactRevision()
	switch {
	case e.IsAny(), e.IsStreamExists(),
		e.IsNoStream() && first == 0,
		isExact && exact+1 == first:
		return res, true, nil
	}
	return res, false, nil
}

func (w *txWriter) bytes(s string) []byte {
	b := w.alloc(len(s))
	copy(b, s)
	return b
}

func (w *txWriter) streamKey(stream string, rev uint64) []byte {
	b := w.alloc(binary.MaxVarintLen64 + len(stream) + 8)
	return appendStreamKey(b[:0], stream, rev)
}

// appendStreamKey builds a stream-index key. The length prefix keeps each
// stream's keys contiguous even when one name is a prefix of another.
func appendStreamKey(b []byte, stream string, rev uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(stream)))
	b = append(b, stream...)
	return binary.BigEndian.AppendUint64(b, rev)
}

// streamState is a stream's entry in the streams bucket. It outlives the
// stream's events, so a stream emptied by retention keeps its revision.
type streamState struct {
	last  uint64 // revision of the last event written
	first uint64 // revision of the first event not removed by retention
}

func getStreamState(v []byte) (streamState, bool) {
	if len(v) != 16 {
		return streamState{}, false
	}
	return streamState{last: binary.BigEndian.Uint64(v), first: binary.BigEndian.Uint64(v[8:])}, true
}

func putStreamState(b []byte, st streamState) []byte {
	binary.BigEndian.PutUint64(b, st.last)
	binary.BigEndian.PutUint64(b[8:], st.first)
	return b
}

func getUint64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func putUint64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

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
