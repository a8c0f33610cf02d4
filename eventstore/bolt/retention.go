package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/eventstore"
)

const maxAgePrefix = "maxage/"

// sweepTxLimit bounds the deletions of one retention transaction, so a
// large sweep never holds the write lock (and the appenders) for long.
const sweepTxLimit = 10_000

// SetMaxAge sets the retention of every stream in category (the part of a
// stream name before the first '-'). It is persisted; the background sweep
// and Sweep remove events older than age. Zero removes the limit.
func (s *Store) SetMaxAge(ctx context.Context, category string, age time.Duration) error {
	if age < 0 {
		return fmt.Errorf("set max age of %s: negative age %s: %w", category, age, eventstore.ErrInvalidEvent)
	}
	err := s.write(ctx, func(tx *bbolt.Tx) error {
		meta, key := tx.Bucket(bucketMeta), []byte(maxAgePrefix+category)
		if age == 0 {
			return meta.Delete(key)
		}
		return meta.Put(key, putUint64(uint64(age)))
	})
	if err != nil {
		return fmt.Errorf("set max age of %s: %w", category, err)
	}
	return nil
}

// Sweep removes every event older than its category's max age, measured by
// the store's clock, and returns how many it removed. Events of a stream
// are removed oldest first, so a stream read afterwards starts at its first
// retained event. The background sweep calls it; tests call it directly.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	ages := map[string]time.Duration{}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketMeta).Cursor()
		p := []byte(maxAgePrefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			ages[string(k[len(p):])] = time.Duration(getUint64(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	now, removed := s.now(), 0
	for category, age := range ages {
		n, err := s.sweepCategory(ctx, category, now.Add(-age).UnixNano())
		removed += n
		if err != nil {
			return removed, fmt.Errorf("sweep %s: %w", category, err)
		}
	}
	return removed, nil
}

// sweepCategory removes events committed before cutoff from the streams of
// category, in transactions of at most sweepTxLimit deletions.
func (s *Store) sweepCategory(ctx context.Context, category string, cutoff int64) (int, error) {
	var streams []string
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketStreams).Cursor()
		for k, _ := c.Seek([]byte(category)); k != nil && bytes.HasPrefix(k, []byte(category)); k, _ = c.Next() {
			if eventstore.Category(string(k)) == category {
				streams = append(streams, string(k))
			}
		}
		return nil
	})
	removed := 0
	for len(streams) > 0 && err == nil {
		err = s.write(ctx, func(tx *bbolt.Tx) error {
			budget := sweepTxLimit
			for len(streams) > 0 && budget > 0 {
				n, done, err := sweepStream(tx, streams[0], cutoff, budget)
				if err != nil {
					return err
				}
				removed, budget = removed+n, budget-n
				if done {
					streams = streams[1:]
				}
			}
			return nil
		})
	}
	return removed, err
}

// sweepStream removes up to budget expired events from the front of one
// stream and reports whether the stream has no more expired events.
func sweepStream(tx *bbolt.Tx, stream string, cutoff int64, budget int) (int, bool, error) {
	streams, idx, log, ids := tx.Bucket(bucketStreams), tx.Bucket(bucketStreamIdx), tx.Bucket(bucketLog), tx.Bucket(bucketIDs)
	st, ok := getStreamState(streams.Get([]byte(stream)))
	if !ok {
		return 0, true, nil
	}
	type victim struct{ idxKey, pos, id []byte }
	var victims []victim
	done := true
	for rev := st.first; rev <= st.last; rev++ {
		if len(victims) == budget {
			done = false
			break
		}
		key := appendStreamKey(nil, stream, rev)
		pos := idx.Get(key)
		if pos == nil {
			continue // already removed
		}
		v := log.Get(pos)
		if len(v) < recordHeaderSize || int64(binary.BigEndian.Uint64(v[5:])) >= cutoff {
			break // a stream's events are in time order: the rest are newer
		}
		victims = append(victims, victim{key, bytes.Clone(pos), bytes.Clone(v[21:37])})
	}
	for _, v := range victims {
		for _, del := range []struct {
			name string
			b    *bbolt.Bucket
			k    []byte
		}{{"log", log, v.pos}, {"stream index", idx, v.idxKey}, {"id", ids, v.id}} {
			if err := del.b.Delete(del.k); err != nil {
				return 0, false, fmt.Errorf("delete %s entry of %s: %w", del.name, stream, err)
			}
		}
	}
	st.first += uint64(len(victims))
	if len(victims) > 0 {
		if err := streams.Put([]byte(stream), putStreamState(make([]byte, 16), st)); err != nil {
			return 0, false, fmt.Errorf("put stream %s: %w", stream, err)
		}
	}
	return len(victims), done, nil
}

// write runs a write transaction outside the append path (retention
// settings and sweeps), refusing once the store is closing.
func (s *Store) write(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	return s.update(fn)
}

// sweeper runs Sweep every interval until the store closes.
func (s *Store) sweeper(interval time.Duration) {
	defer s.sweepWG.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.sweepStop
		cancel()
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.sweepStop:
			return
		case <-t.C:
			if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("event store retention sweep failed", "file", s.path, "err", err)
			} else if n > 0 {
				s.log.Info("event store retention sweep", "file", s.path, "removed", n)
			}
		}
	}
}
