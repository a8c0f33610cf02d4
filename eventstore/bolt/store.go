// Package bolt is the embedded event store: an append-only log kept in a
// single bbolt file. It is webhookd's default backend, made for one machine.
//
// Appends from many goroutines are group-committed: one writer goroutine
// gathers whatever requests are queued and commits them in a single bbolt
// transaction, so one fsync acknowledges them all. A commit writes only log
// records; the per-stream index follows in batches (index.go). Subscriptions
// pull pages from the file and wait on a commit broadcast when they have
// caught up, so a slow subscriber never holds back writers or grows memory.
//
// docs/store.md describes the layout, the choices and the measurements.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/boltmem"
)

var _ eventstore.Store = (*Store)(nil)

// Bucket names. docs/store.md describes the layout.
var (
	bucketLog     = []byte("log")     // position -> record
	bucketStreams = []byte("streams") // stream+revision -> position; stream head -> last revision (keys.go)
	bucketMeta    = []byte("meta")    // head, indexed, maxage/<category>, swept/<category>
)

var keyHead = []byte("head") // last position ever assigned

// Options tune a Store. The zero value is the durable production setting.
type Options struct {
	// NoSync skips fsync on commit. Only for tests: an acknowledged append
	// may be lost on a crash.
	NoSync bool
	// Now is the clock used for commit times and retention. Defaults to
	// time.Now; tests inject a fake to exercise retention without sleeping.
	Now func() time.Time
	// Logger receives background errors (retention sweeps, index flushes).
	// Defaults to slog.Default().
	Logger *slog.Logger
	// SweepInterval is how often retention runs in the background. Zero
	// means one minute; negative disables the background sweep (Sweep can
	// still be called).
	SweepInterval time.Duration
	// MaxBatch caps how many append requests one commit gathers. Zero means
	// 512.
	MaxBatch int
	// IDWindow is how many recent events Any appends are checked against
	// for idempotency (see Append). Zero means 100,000; negative disables
	// the window.
	IDWindow int
}

// Store is the bbolt-backed event store. It is safe for concurrent use.
type Store struct {
	db   *bbolt.DB
	path string
	now  func() time.Time
	log  *slog.Logger

	maxBatch int
	reqs     chan *appendReq
	writerWG sync.WaitGroup

	// gate serialises Close against new appends entering reqs.
	gate     sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
	closing  chan struct{}

	// commitMu guards committed, which the writer closes and replaces after
	// every commit: the broadcast subscribers wait on.
	commitMu  sync.Mutex
	committed chan struct{}

	pending   *pendingIndex   // stream index entries not yet flushed (index.go)
	recent    *recent         // the newest committed records (recent.go)
	flushReqs chan chan error // asks the writer for an index flush

	sweepStop chan struct{}
	sweepWG   sync.WaitGroup

	// scanned counts the log bytes reads have visited since their pages
	// were last released (read.go, releaseScanned).
	scanned atomic.Int64
}

// Open opens or creates the store at path. A damaged or truncated file is
// reported as a *eventstore.CorruptionError naming the file and offset.
func Open(path string, opts Options) (*Store, error) {
	if err := checkFile(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path, opts.NoSync)
	if err != nil {
		return nil, err
	}
	s := &Store{
		db:        db,
		path:      path,
		now:       opts.Now,
		log:       opts.Logger,
		maxBatch:  opts.MaxBatch,
		reqs:      make(chan *appendReq, 1024),
		closing:   make(chan struct{}),
		committed: make(chan struct{}),
		sweepStop: make(chan struct{}),
		pending:   newPendingIndex(),
		recent:    newRecent(),
		flushReqs: make(chan chan error),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBatch <= 0 {
		s.maxBatch = 512
	}
	if opts.IDWindow == 0 {
		opts.IDWindow = 100_000
	}
	window := newIDWindow(max(opts.IDWindow, 0))
	head, err := s.init(window)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	// init read the ID window's records (up to 100,000); let those
	// pages go.
	boltmem.Release(db)
	s.writerWG.Add(1)
	go s.writer(head, window)
	if opts.SweepInterval >= 0 {
		interval := opts.SweepInterval
		if interval == 0 {
			interval = time.Minute
		}
		s.sweepWG.Add(1)
		go s.sweeper(interval)
	}
	return s, nil
}

// openBolt opens the bbolt file with the settings measured best for an
// append-heavy log (see docs/store.md), turning any failure or panic into a
// CorruptionError where the file itself is at fault.
func openBolt(path string, noSync bool) (db *bbolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, &eventstore.CorruptionError{File: path, Offset: 0, Reason: fmt.Sprintf("bbolt panicked while opening: %v", r)}
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: 5 * time.Second,
		NoSync:  noSync,
		// The freelist is written with every commit. Not writing it
		// (NoFreelistSync) saves a page per fsync but makes every open
		// scan the whole file to rebuild it: 6.5 s cold for a million
		// events, 35 s at 4 GB. Open must not cost in proportion to the
		// data (docs/store.md).
		FreelistType: bbolt.FreelistMapType,
		// Reserve address space up front so the file rarely needs a remap,
		// which would wait for every open read transaction.
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			return nil, &eventstore.CorruptionError{File: path, Offset: 0, Reason: err.Error()}
		}
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	return db, nil
}

// init creates the buckets, fills the ID window from the tail of the log,
// rebuilds the pending stream index from the log after meta/indexed
// and returns the last position assigned.
func (s *Store) init(window *idWindow) (head uint64, err error) {
	err = s.update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketLog, bucketStreams, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("bolt: create bucket %s: %w", b, err)
			}
		}
		head = getUint64(tx.Bucket(bucketMeta).Get(keyHead))
		c := tx.Bucket(bucketLog).Cursor()
		k, _ := c.Last()
		if k != nil {
			head = max(head, getUint64(k))
		}
		// Walk back over the window's worth of records, then add them oldest
		// first. Every one must decode: a torn tail would show here.
		n := 0
		for ; k != nil && n < len(window.ring); k, _ = c.Prev() {
			n++
		}
		var v []byte
		if k == nil {
			k, v = c.First()
		} else {
			k, v = c.Next()
		}
		for ; k != nil; k, v = c.Next() {
			r, err := s.decodeAt(tx, k, v)
			if err != nil {
				return err
			}
			window.add(r.id, idEntry{stream: string(r.stream), revision: r.revision, position: getUint64(k)})
		}
		return s.recoverPending(tx)
	})
	return head, err
}

// Close stops accepting appends, waits for those in flight to commit, ends
// every subscription and closes the file.
func (s *Store) Close() error {
	s.gate.Lock()
	if s.closed {
		s.gate.Unlock()
		return nil
	}
	s.closed = true
	s.gate.Unlock()

	s.inflight.Wait() // every accepted request is now queued
	close(s.reqs)     // the writer drains the queue, then exits
	s.writerWG.Wait()
	close(s.sweepStop)
	s.sweepWG.Wait()
	close(s.closing)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store lives in.
func (s *Store) Path() string { return s.path }

// commitSignal returns a channel closed by the next commit.
func (s *Store) commitSignal() <-chan struct{} {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.committed
}

// broadcast wakes everything waiting on commitSignal.
func (s *Store) broadcast() {
	s.commitMu.Lock()
	close(s.committed)
	s.committed = make(chan struct{})
	s.commitMu.Unlock()
}

// isClosed reports whether Close has begun.
func (s *Store) isClosed() bool {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.closed
}

// view runs a read transaction, turning a bbolt panic on a damaged page
// into a CorruptionError rather than crashing the process.
func (s *Store) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	return s.guard(ctx, func() error { return s.db.View(fn) })
}

// viewStream is view for reads of one stream: it copies the stream's
// pending index entries while beginning the transaction, under the pending
// lock, so that a concurrent flush cannot make the two disagree.
func (s *Store) viewStream(ctx context.Context, stream string, fn func(*bbolt.Tx, pendingStream) error) error {
	return s.guard(ctx, func() error {
		s.pending.mu.RLock()
		tx, err := s.db.Begin(false)
		ps := s.pending.snapshot(stream)
		s.pending.mu.RUnlock()
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		return fn(tx, ps)
	})
}

// guard runs a read unless ctx is done or the store is closing (holding
// Close off meanwhile), and turns a panic into a CorruptionError.
// Panic-on-fault extends that to a damaged page pointer that leads past the
// end of the file inside the memory map, which would otherwise kill the
// process.
func (s *Store) guard(ctx context.Context, read func() error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	defer s.recoverCorruption(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return read()
}

// update runs a write transaction with the same panic protection as view.
func (s *Store) update(fn func(*bbolt.Tx) error) (err error) {
	defer s.recoverCorruption(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.Update(fn)
}

func (s *Store) recoverCorruption(err *error) {
	if r := recover(); r != nil {
		*err = &eventstore.CorruptionError{File: s.path, Offset: -1, Reason: fmt.Sprintf("bbolt panicked reading a damaged page: %v", r)}
	}
}
