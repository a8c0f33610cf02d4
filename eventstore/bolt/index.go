package bolt

import (
	"context"
	"fmt"
	"slices"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/eventstore"
)

// The stream index (the streams bucket) is written behind the log. A group
// commit writes only log records, which land on the few pages at the end of
// the log; updating every written stream's index page in the same commit
// would dirty one more page per stream and was measured to cut throughput
// by more than half (docs/store.md). Instead the writer remembers the
// positions of recently appended events per stream ("pending") in memory,
// and flushes them to the index in one transaction every flushEvents events
// or flushInterval. meta/indexed records how far the index goes; on Open
// the log after it is scanned to rebuild pending, so a crash loses nothing.
const (
	flushEvents = 8192
)

var keyIndexed = []byte("indexed") // last position covered by the streams bucket

// pendingIndex holds the stream-index entries not yet flushed. The writer
// goroutine is its only mutator and reads it without locking; readers
// take mu.RLock while they open their read transaction and copy a stream's
// entries, so the copy and the transaction agree (see snapshot).
type pendingIndex struct {
	mu      sync.RWMutex
	streams map[string]*pendingStream
	events  int
}

// pendingStream is one stream's unflushed events: revisions first,
// first+1, ... at the given positions.
type pendingStream struct {
	first     uint64
	positions []uint64
}

func newPendingIndex() *pendingIndex {
	return &pendingIndex{streams: map[string]*pendingStream{}}
}

// last returns the stream's newest pending revision.
func (p *pendingIndex) last(stream string) (uint64, bool) {
	ps, ok := p.streams[stream]
	if !ok || len(ps.positions) == 0 {
		return 0, false
	}
	return ps.first + uint64(len(ps.positions)) - 1, true
}

// position returns the position of a pending revision.
func (p *pendingIndex) position(stream string, rev uint64) (uint64, bool) {
	ps, ok := p.streams[stream]
	if !ok || rev < ps.first || rev-ps.first >= uint64(len(ps.positions)) {
		return 0, false
	}
	return ps.positions[rev-ps.first], true
}

// add records an event. Called by the writer, inside its transaction.
func (p *pendingIndex) add(stream string, rev, pos uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps, ok := p.streams[stream]
	if !ok {
		ps = &pendingStream{first: rev}
		p.streams[stream] = ps
	}
	ps.positions = append(ps.positions, pos)
	p.events++
}

// undo forgets every entry after position head: those of a group commit
// whose transaction failed.
func (p *pendingIndex) undo(head uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for stream, ps := range p.streams {
		n := len(ps.positions)
		for n > 0 && ps.positions[n-1] > head {
			n--
		}
		p.events -= len(ps.positions) - n
		if ps.positions = ps.positions[:n]; n == 0 {
			delete(p.streams, stream)
		}
	}
}

// snapshot copies one stream's pending entries. Readers call it while
// holding mu.RLock, right after beginning their transaction.
func (p *pendingIndex) snapshot(stream string) pendingStream {
	ps, ok := p.streams[stream]
	if !ok {
		return pendingStream{}
	}
	return pendingStream{first: ps.first, positions: slices.Clone(ps.positions)}
}

// flush writes every pending entry to the streams bucket in a
// transaction of its own and then drops them. Only the writer calls it,
// between group commits, when no append is waiting.
func (s *Store) flush(head uint64) error {
	if s.pending.events == 0 {
		return nil
	}
	names := s.pending.names()
	if err := s.update(func(tx *bbolt.Tx) error { return s.writeIndex(tx, names, head) }); err != nil {
		return fmt.Errorf("bolt: flush stream index: %w", err)
	}
	s.pending.forget(names, head)
	return nil
}

// names returns the streams with pending entries, sorted, so that the
// index is written walking the tree in one direction.
func (p *pendingIndex) names() []string {
	names := make([]string, 0, len(p.streams))
	for name := range p.streams {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// writeIndex puts the pending entries of streams names, all of them at
// positions up to head, into the streams bucket, and records that the
// index now covers the log up to head.
func (s *Store) writeIndex(tx *bbolt.Tx, names []string, head uint64) error {
	streams := tx.Bucket(bucketStreams)
	for _, name := range names {
		ps := s.pending.streams[name]
		for i, pos := range ps.positions {
			if err := streams.Put(appendStreamKey(nil, name, ps.first+uint64(i)), putUint64(pos)); err != nil {
				return fmt.Errorf("index %s/%d: %w", name, ps.first+uint64(i), err)
			}
		}
		last := ps.first + uint64(len(ps.positions)) - 1
		if err := streams.Put(streamHeadKey(name), putUint64(last)); err != nil {
			return fmt.Errorf("index head of %s: %w", name, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keyIndexed, putUint64(head))
}

// forget drops the entries at positions up to head of streams names, once
// the index holding them has committed. Entries the same transaction
// appended stay pending.
func (p *pendingIndex) forget(names []string, head uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, name := range names {
		ps := p.streams[name]
		n := 0
		for n < len(ps.positions) && ps.positions[n] <= head {
			n++
		}
		p.events -= n
		if n == len(ps.positions) {
			delete(p.streams, name)
			continue
		}
		ps.first += uint64(n)
		ps.positions = slices.Clone(ps.positions[n:])
	}
}

// recoverPending rebuilds the pending entries from the log records after
// meta/indexed: the events a crash caught before their flush.
func (s *Store) recoverPending(tx *bbolt.Tx) error {
	indexed := getUint64(tx.Bucket(bucketMeta).Get(keyIndexed))
	c := tx.Bucket(bucketLog).Cursor()
	for k, v := c.Seek(putUint64(indexed + 1)); k != nil; k, v = c.Next() {
		r, err := s.decodeAt(tx, k, v)
		if err != nil {
			return err
		}
		s.pending.add(string(r.stream), r.revision, getUint64(k))
	}
	return nil
}

// flushNow has the writer flush the stream index and waits for it.
func (s *Store) flushNow(ctx context.Context) error {
	s.gate.RLock() // the writer outlives every holder of the gate
	defer s.gate.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	done := make(chan error, 1)
	select {
	case s.flushReqs <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
