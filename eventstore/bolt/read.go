package bolt

import (
	"context"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/boltmem"
)

// ReadStream returns up to limit events of stream from revision from on. A
// stream whose early events were removed by retention starts at its first
// retained event; one whose events were all removed returns no events and
// no error. A stream never written returns ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []eventstore.RecordedEvent
	err := s.viewStream(ctx, stream, func(tx *bbolt.Tx, pending pendingStream) error {
		streams, log, meta := tx.Bucket(bucketStreams), tx.Bucket(bucketLog), tx.Bucket(bucketMeta)
		// The pending copy may hold entries this transaction already sees in
		// the index (flushed meanwhile) or cannot see yet (still committing).
		indexed, head := getUint64(meta.Get(keyIndexed)), getUint64(meta.Get(keyHead))
		lo, hi := 0, 0
		for lo < len(pending.positions) && pending.positions[lo] <= indexed {
			lo++
		}
		for hi = lo; hi < len(pending.positions) && pending.positions[hi] <= head; hi++ {
		}
		tail, first := pending.positions[lo:hi], pending.first+uint64(lo)
		if streams.Get(streamHeadKey(stream)) == nil && len(tail) == 0 {
			return eventstore.ErrStreamNotFound
		}
		emit := func(posKey []byte) error {
			r, err := s.decodeAt(tx, posKey, log.Get(posKey))
			if err != nil {
				return err
			}
			out = append(out, r.copyOut(eventstore.Position(getUint64(posKey))))
			if len(out)%256 == 0 {
				return ctx.Err()
			}
			return nil
		}
		prefix := streamPrefix(stream)
		c := streams.Cursor()
		for k, pos := c.Seek(appendStreamKey(nil, stream, from)); k != nil && len(out) < limit; k, pos = c.Next() {
			if _, ok := revisionOf(prefix, k); !ok {
				break // the head key, or another stream
			}
			if err := emit(pos); err != nil {
				return err
			}
		}
		for i, pos := range tail {
			if len(out) == limit {
				break
			}
			if first+uint64(i) >= from {
				if err := emit(putUint64(pos)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", stream, err)
	}
	return out, nil
}

// ReadAll returns up to limit events after position after, in commit order.
// A damaged record ends the page before it; the read that starts at it
// returns a *eventstore.CorruptionError.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	out, _, err := s.readPage(ctx, after, limit, limit, eventstore.Filter{})
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, err)
	}
	return out, nil
}

// readPage reads events after position after that match filter, stopping
// after limit matches or scan records looked at, whichever comes first. It
// returns the position of the last record looked at (after, if none), so a
// filtered reader moves past events it skipped.
func (s *Store) readPage(ctx context.Context, after eventstore.Position, limit, scan int, filter eventstore.Filter) ([]eventstore.RecordedEvent, eventstore.Position, error) {
	if limit <= 0 {
		return nil, after, nil
	}
	var out []eventstore.RecordedEvent
	last := after
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		var seek [8]byte
		binary.BigEndian.PutUint64(seek[:], uint64(after)+1)
		var visited int64
		defer func() { s.releaseScanned(visited) }()
		for k, v := c.Seek(seek[:]); k != nil && scan > 0; k, v = c.Next() {
			scan--
			visited += int64(len(k) + len(v))
			r, err := s.decodeAt(tx, k, v)
			if err != nil && len(out) > 0 {
				return nil // deliver what precedes the damage; the next read reports it
			}
			if err != nil {
				return err
			}
			last = eventstore.Position(getUint64(k))
			if !matchType(filter, r.typ) {
				continue
			}
			out = append(out, r.copyOut(last))
			if len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, last, err
}

// releaseScannedEvery is how many log bytes reads may visit before the
// pages they touched are released from the process: a reader far behind
// (the operational reactor's first start, a rebuild, a replay from the
// beginning) reads the whole file once, and every page it passes would
// otherwise stay mapped and count as the process's memory, although the
// kernel may drop it at will. A variable, so a test can lower it.
var releaseScannedEvery int64 = 16 << 20

// releaseScanned adds visited bytes to what reads have scanned and, past
// releaseScannedEvery, releases the file's pages (internal/boltmem). It
// runs inside the read's transaction, which holds off a remap of the
// file; released pages fault back in from the page cache, so concurrent
// readers read the same bytes.
func (s *Store) releaseScanned(visited int64) {
	if s.scanned.Add(visited) < releaseScannedEvery {
		return
	}
	s.scanned.Store(0)
	boltmem.Release(s.db)
}

// matchType is Filter.Match on the raw type bytes, without allocating a
// string for every record scanned.
func matchType(f eventstore.Filter, typ []byte) bool {
	if len(f.TypePrefixes) == 0 {
		return true
	}
	for _, p := range f.TypePrefixes {
		if len(typ) >= len(p) && string(typ[:len(p)]) == p {
			return true
		}
	}
	return false
}
