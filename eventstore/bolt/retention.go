package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/eventstore"
)

const (
	maxAgePrefix = "maxage/"
	sweptPrefix  = "swept/"
)

// sweepTxLimit bounds the records one retention transaction scans, so a
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
// the store's clock, and returns how many it removed. A stream read
// afterwards starts at its first retained event; its head (and so its
// revision) is kept even when every event is gone. The background sweep
// calls it; tests call it directly.
//
// Commit times grow with position, so for each category the sweep scans
// the log from where its last sweep stopped (kept in meta as
// swept/<category>) up to the first event younger than the cutoff: every
// record is looked at once per category with a max age, never again.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	// Only indexed events are swept (see sweepBatch): index them all first.
	if err := s.flushNow(ctx); err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
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
		cutoff := now.Add(-age).UnixNano()
		for done := false; !done; {
			var n int
			err := s.write(ctx, func(tx *bbolt.Tx) (err error) {
				n, done, err = s.sweepBatch(tx, category, cutoff)
				return err
			})
			removed += n
			if n > 0 && err == nil {
				s.recent.reset() // subscriptions must not be handed removed records
			}
			if err != nil {
				return removed, fmt.Errorf("sweep %s: %w", category, err)
			}
		}
	}
	return removed, nil
}

// sweepBatch scans up to sweepTxLimit records after the category's sweep
// cursor, removes those of the category committed before cutoff, and
// reports whether it reached the cutoff (or the end of the log).
func (s *Store) sweepBatch(tx *bbolt.Tx, category string, cutoff int64) (removed int, done bool, err error) {
	log, streams, meta := tx.Bucket(bucketLog), tx.Bucket(bucketStreams), tx.Bucket(bucketMeta)
	cursorKey := []byte(sweptPrefix + category)
	swept := getUint64(meta.Get(cursorKey))
	// Events not yet in the stream index are left to a later sweep, so a
	// sweep and an index flush never touch the same entries.
	indexed := getUint64(meta.Get(keyIndexed))
	var victims [][2][]byte // log key, stream key
	c := log.Cursor()
	k, v := c.Seek(putUint64(swept + 1))
	for scanned := 0; ; k, v = c.Next() {
		if k == nil || getUint64(k) > indexed {
			done = true
			break
		}
		r, err := s.decodeAt(tx, k, v)
		if err != nil {
			return 0, false, err
		}
		if r.at >= cutoff {
			done = true
			break
		}
		if scanned == sweepTxLimit {
			break
		}
		scanned++
		swept = getUint64(k)
		if eventstore.Category(string(r.stream)) == category {
			victims = append(victims, [2][]byte{bytes.Clone(k), appendStreamKey(nil, string(r.stream), r.revision)})
		}
	}
	for _, vk := range victims {
		if err := log.Delete(vk[0]); err != nil {
			return 0, false, fmt.Errorf("delete position %d: %w", getUint64(vk[0]), err)
		}
		if err := streams.Delete(vk[1]); err != nil {
			return 0, false, fmt.Errorf("delete stream entry of position %d: %w", getUint64(vk[0]), err)
		}
	}
	if err := meta.Put(cursorKey, putUint64(swept)); err != nil {
		return 0, false, fmt.Errorf("save sweep cursor: %w", err)
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
