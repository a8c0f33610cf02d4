package projections

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/webhookd/webhookd/eventstore"
)

var checkpointBucket = []byte("checkpoints")

// catchUpPage is how many events one catch-up read, and one transaction,
// covers. Larger pages amortise the fsync; 1,000 keeps a transaction's
// memory small even for large events.
const catchUpPage = 1000

// Runner feeds events from the store to a set of projections that share one
// read-model database and one checkpoint.
type Runner struct {
	Name        string
	Store       eventstore.Store
	DB          *bbolt.DB
	Codec       *eventstore.Codec
	Projections []Projection
	Logger      *slog.Logger
	// OnCommit, when set, receives the changes of each committed batch.
	OnCommit func([]Change)
	// OnDecoded, when set, hears of each event the live subscription
	// decodes, in the reader goroutine, before the batch holding it is
	// applied: beside the serial stage, never inside it.
	OnDecoded func(eventstore.RecordedEvent, eventstore.Event)
	// OnProgress, when set, is called after each committed batch.
	OnProgress func(pos eventstore.Position)
	// Deferrable, when set, says which events nobody waits to read at
	// once (the dispatcher's attempt records): a batch made only of them,
	// right after another such batch, may wait up to DeferLinger for more
	// before it commits, so a lane working through a backlog costs one
	// read-model commit per few milliseconds rather than one per attempt
	// (and, where the read model is synced, its fsyncs stop competing with
	// the event store's). Any other event in the batch, or a WaitFor
	// caller, commits it at once.
	Deferrable func(eventstore.RecordedEvent) bool
	// DeferLinger is how long such a batch may wait; zero means
	// DefaultDeferLinger.
	DeferLinger time.Duration
	// Retention, when it limits any category, is applied by Prune and at
	// the end of every Rebuild, so a rebuilt read model holds what the
	// live one does once both are pruned.
	Retention Retention

	// applyMu serialises batches, so a rebuild can run beside a live
	// runner: while it holds the lock, live batches wait, then skip what
	// the rebuild already applied.
	applyMu sync.Mutex
	mu      sync.Mutex
	pos     eventstore.Position
	// announced is pos once the batch's changes were handed to OnCommit
	// (the live broker, the dispatcher): WaitFor waits for it, so a caller
	// who subscribes after its write was applied is not then sent the
	// change of that write, or of any earlier one.
	announced eventstore.Position
	ready     bool
	sub       eventstore.Subscription // the live subscription, for Ready
	advanced  chan struct{}           // closed and replaced whenever pos or readiness moves
	hurry     chan struct{}           // a WaitFor caller is waiting: stop deferring

	// Supervision state (supervise.go): the failure the runner is down
	// with, since when, how often it was restarted, and who hears of a
	// recovery.
	failErr   error
	failSince time.Time
	restarts  int
	onUp      func(RunnerHealth)
}

// Open creates the projections' buckets and loads the checkpoint.
func (r *Runner) Open() error {
	r.mu.Lock()
	if r.advanced == nil {
		r.advanced = make(chan struct{})
	}
	r.mu.Unlock()
	return r.DB.Update(func(tx *bbolt.Tx) error {
		if err := r.createBuckets(tx); err != nil {
			return err
		}
		if v := tx.Bucket(checkpointBucket).Get([]byte(r.Name)); len(v) == 8 {
			r.mu.Lock()
			r.pos = eventstore.Position(binary.BigEndian.Uint64(v))
			r.announced = r.pos
			r.mu.Unlock()
		}
		return nil
	})
}

func (r *Runner) createBuckets(tx *bbolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(checkpointBucket); err != nil {
		return err
	}
	for _, p := range r.Projections {
		for _, b := range p.Buckets() {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return fmt.Errorf("projection %s: bucket %s: %w", p.Name(), b, err)
			}
		}
	}
	return nil
}

// Position returns the checkpoint: the last log position applied.
func (r *Runner) Position() eventstore.Position {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pos
}

// WaitReady blocks until the runner has caught up (Ready but for the
// subscription's connection) or ctx ends. It wakes on the
// runner's own state changes (a commit, catching up, a recovery), not on
// a timer, so a caller learns of readiness the moment it happens.
func (r *Runner) WaitReady(ctx context.Context) error {
	for {
		err := r.caughtUp()
		if err == nil {
			return nil
		}
		r.mu.Lock()
		ch := r.advanced
		r.mu.Unlock()
		if r.caughtUp() == nil {
			return nil // became ready between the two looks
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for projections: %w (%v)", ctx.Err(), err)
		}
	}
}

// changedLocked wakes WaitFor and WaitReady; r.mu is held.
func (r *Runner) changedLocked() {
	if r.advanced == nil {
		r.advanced = make(chan struct{})
	}
	close(r.advanced)
	r.advanced = make(chan struct{})
}

// WaitFor blocks until the projections have applied position pos and
// announced its changes, so a caller that just appended can read its own
// write, and a subscription it opens next hears only of later ones.
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	for {
		r.mu.Lock()
		done, ch := r.announced >= pos, r.advanced
		r.mu.Unlock()
		if done {
			return nil
		}
		r.HurryUp()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("wait for projection position %d: %w", pos, ctx.Err())
		}
	}
}

// HurryUp tells a batch deferred for more events (Deferrable) to commit
// now: someone waits to read it. A call with nothing deferred makes at
// most the next batch commit without waiting.
func (r *Runner) HurryUp() {
	select {
	case r.hurryChan() <- struct{}{}:
	default: // already told
	}
}

func (r *Runner) hurryChan() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hurry == nil {
		r.hurry = make(chan struct{}, 1)
	}
	return r.hurry
}

// Run catches up in pages, marks the runner ready, then follows the live
// subscription until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.CatchUp(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while catching up
		}
		return err
	}
	r.mu.Lock()
	r.ready = true
	r.changedLocked()
	r.mu.Unlock()
	r.markUp()
	return r.follow(ctx)
}

// CatchUp applies every event in the log after the checkpoint, a page per
// transaction, and returns when a page comes back short.
func (r *Runner) CatchUp(ctx context.Context) error {
	return r.catchUp(ctx, false, nil)
}

// catchUp is CatchUp; locked says the caller holds applyMu, and progress,
// when set, hears of each page.
func (r *Runner) catchUp(ctx context.Context, locked bool, progress func(eventstore.Position)) error {
	start, lastLog, applied := time.Now(), time.Now(), 0
	for {
		recs, err := r.Store.ReadAll(ctx, r.Position(), catchUpPage)
		if err != nil {
			return fmt.Errorf("projections %s: read after %d: %w", r.Name, r.Position(), err)
		}
		if len(recs) > 0 {
			batch := make([]decoded, len(recs))
			for i, rec := range recs {
				batch[i] = r.decode(rec)
			}
			if locked {
				err = r.applyLocked(batch)
			} else {
				err = r.apply(batch)
			}
			if err != nil {
				return err
			}
			if progress != nil {
				progress(r.Position())
			}
			applied += len(recs)
			if r.Logger != nil && time.Since(lastLog) > 2*time.Second {
				lastLog = time.Now()
				r.Logger.Info("projections catching up", "name", r.Name, "position", r.Position(), "events", applied,
					"events_per_s", int(float64(applied)/time.Since(start).Seconds()))
			}
		}
		if len(recs) < catchUpPage {
			if r.Logger != nil && applied > 0 {
				r.Logger.Info("projections caught up", "name", r.Name, "position", r.Position(), "events", applied, "took", time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
	}
}

func (r *Runner) follow(ctx context.Context) error {
	// A failed batch returns while the reader may be blocked handing over
	// the next event; cancelling stops it, so a restart leaks nothing.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := r.Store.SubscribeAll(ctx, r.Position(), eventstore.Filter{})
	if err != nil && ctx.Err() != nil {
		return nil // stopped just as catch-up finished
	}
	if err != nil {
		return fmt.Errorf("projections %s: subscribe: %w", r.Name, err)
	}
	defer sub.Close()
	r.mu.Lock()
	r.sub = sub
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.sub = nil
		r.mu.Unlock()
	}()
	// A reader goroutine feeds a bounded channel so the apply loop can take
	// whatever has arrived as one batch (one transaction, one fsync). It
	// also decodes, so the JSON work runs beside the serial apply loop
	// rather than inside its write transaction.
	feed := make(chan decoded, catchUpPage)
	readErr := make(chan error, 1)
	go func() {
		defer close(feed)
		for {
			rec, err := sub.Next(ctx)
			if err != nil {
				readErr <- err
				return
			}
			d := r.decode(rec)
			if r.OnDecoded != nil && d.ev != nil {
				r.OnDecoded(d.rec, d.ev)
			}
			select {
			case feed <- d:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
		}
	}()
	batch := make([]decoded, 0, catchUpPage)
	hurry := r.hurryChan()
	deferFor := r.DeferLinger
	if deferFor <= 0 {
		deferFor = DefaultDeferLinger
	}
	busy := false // the last batch was large: the log is busy
	// lastDeferrable: the last batch held deferrable events only. A lone
	// attempt record between messages (a quiet log) commits at once, so
	// the next message's commit does not carry it; only a run of them
	// (a lane working through a backlog) is deferred.
	lastDeferrable := false
	for {
		rec, ok := <-feed
		if !ok {
			err := <-readErr
			if ctx.Err() != nil || errors.Is(err, eventstore.ErrSubscriptionClosed) {
				return nil
			}
			return fmt.Errorf("projections %s: subscription: %w", r.Name, err)
		}
		batch = append(batch[:0], rec)
		deferrable := r.deferrable(rec.rec)
		wait := deferrable && lastDeferrable
		// A run of attempt records (wait) lingers deferFor, busy log or
		// not: under load most batches are such runs, and a busy log is
		// where a larger commit saves most (each one rewrites the pages of
		// every webhook's index ranges it touches). Any other batch of a
		// busy log lingers busyLinger.
		var linger <-chan time.Time
		if busy && !wait {
			linger = time.After(busyLinger)
		}
	drain:
		for len(batch) < catchUpPage {
			var next decoded
			var more bool
			select {
			case next, more = <-feed:
			default: // nothing waiting: commit now, or linger
				if linger == nil && wait {
					linger = time.After(deferFor)
				}
				if linger == nil {
					break drain
				}
				select {
				case next, more = <-feed:
				case <-linger:
					break drain
				case <-hurry:
					break drain
				}
			}
			if !more {
				break drain
			}
			batch = append(batch, next)
			if deferrable && !r.deferrable(next.rec) {
				deferrable, wait, linger = false, false, nil // someone may wait on this one
				if busy {
					linger = time.After(busyLinger)
				}
			}
		}
		busy, lastDeferrable = len(batch) >= busyBatch, deferrable
		if err := r.apply(batch); err != nil {
			return err
		}
	}
}

func (r *Runner) deferrable(rec eventstore.RecordedEvent) bool {
	return r.Deferrable != nil && r.Deferrable(rec)
}

// decoded is a recorded event with the outcome of decoding it.
type decoded struct {
	rec eventstore.RecordedEvent
	ev  eventstore.Event
	err error
}

// decode decodes rec. An unknown type is skipped (a newer binary wrote it):
// ev is nil with no error. A known type that fails to decode is a real
// fault, which apply reports when it reaches the event.
func (r *Runner) decode(rec eventstore.RecordedEvent) decoded {
	ev, err := r.Codec.Decode(rec)
	if err != nil {
		if r.Codec.Known(rec.Type) {
			return decoded{rec: rec, err: fmt.Errorf("projections %s: %w", r.Name, err)}
		}
		return decoded{rec: rec}
	}
	return decoded{rec: rec, ev: ev}
}

// apply folds a batch into every projection and moves the checkpoint, all
// in one transaction.
func (r *Runner) apply(recs []decoded) error {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	return r.applyLocked(recs)
}

// applyLocked is apply with applyMu held.
func (r *Runner) applyLocked(recs []decoded) error {
	var changes []Change
	last := recs[len(recs)-1].rec.Position
	for _, p := range r.Projections {
		if b, ok := p.(Batcher); ok {
			b.BeginBatch() // also drops what a failed batch left behind
		}
	}
	err := r.DB.Update(func(tx *bbolt.Tx) error {
		appendMostly(tx)
		for _, d := range recs {
			rec := d.rec
			if rec.Position <= r.pos {
				continue // already applied: a subscription restart may repeat
			}
			if d.err != nil {
				return d.err
			}
			for _, p := range r.Projections {
				c, err := p.Apply(tx, rec, d.ev)
				if err != nil {
					return fmt.Errorf("projection %s at position %d (%s): %w", p.Name(), rec.Position, rec.Type, err)
				}
				changes = append(changes, c...)
			}
		}
		for _, p := range r.Projections {
			if b, ok := p.(Batcher); ok {
				if err := b.FlushBatch(tx); err != nil {
					return fmt.Errorf("projection %s: flush: %w", p.Name(), err)
				}
			}
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(last))
		return tx.Bucket(checkpointBucket).Put([]byte(r.Name), buf[:])
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	if last > r.pos {
		r.pos = last
	}
	r.changedLocked()
	r.mu.Unlock()
	r.markUp()
	if r.OnProgress != nil {
		r.OnProgress(last)
	}
	if r.OnCommit != nil && len(changes) > 0 {
		r.OnCommit(changes)
	}
	r.mu.Lock()
	r.announced = max(r.announced, last)
	r.changedLocked()
	r.mu.Unlock()
	return nil
}

// Rebuild drops every projection's buckets and the checkpoint, then replays
// the whole log. It never triggers side effects: only read models change.
// progress, when set, is called after each page with the position reached.
// A live Run may go on beside it: its batches wait for the rebuild and then
// skip what it applied.
func (r *Runner) Rebuild(ctx context.Context, progress func(eventstore.Position, time.Duration)) error {
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	start := time.Now()
	err := r.DB.Update(func(tx *bbolt.Tx) error {
		for _, p := range r.Projections {
			for _, b := range p.Buckets() {
				if err := tx.DeleteBucket([]byte(b)); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
					return err
				}
			}
		}
		if err := tx.Bucket(checkpointBucket).Delete([]byte(r.Name)); err != nil {
			return err
		}
		return r.createBuckets(tx)
	})
	if err != nil {
		return fmt.Errorf("projections %s: reset: %w", r.Name, err)
	}
	r.mu.Lock()
	r.pos, r.announced = 0, 0
	r.mu.Unlock()
	err = r.catchUp(ctx, true, func(p eventstore.Position) {
		if progress != nil {
			progress(p, time.Since(start))
		}
	})
	if err != nil {
		return err
	}
	// The log may still hold events of objects retention has dropped from
	// the read model (a delivery whose message expired, a stream whose
	// start did), which replaying brought back in part: prune them again.
	_, err = r.pruneLocked(ctx)
	return err
}

// busyBatch and busyLinger make commits larger under load only: after a
// batch of at least busyBatch events, the next one waits up to busyLinger
// for more before committing, so each commit (every page it touches
// rewritten) carries more events. A quiet log commits at once, so the
// latency of a lone event is untouched. A run of deferrable events waits
// the longer DefaultDeferLinger, busy or not.
const (
	busyBatch  = 32
	busyLinger = 2 * time.Millisecond
)

// DefaultDeferLinger is how long a batch of deferrable events only may
// wait for more (Runner.Deferrable). Long enough that a lane's attempts
// over a few milliseconds share one read-model commit, short enough that
// a deliveryUpdated subscriber hardly notices.
const DefaultDeferLinger = 5 * time.Millisecond

// appendFill is how full a read-model page is left when it splits. The
// read models' keys grow mostly in order (delivery IDs and positions lead
// them), and bbolt's default of one half then leaves every page it splits
// half empty for good: twice the pages to write and to keep.
const appendFill = 0.9

// appendMostly sets appendFill on every bucket of the batch's transaction.
func appendMostly(tx *bbolt.Tx) {
	_ = tx.ForEach(func(_ []byte, b *bbolt.Bucket) error {
		b.FillPercent = appendFill
		return nil
	})
}
