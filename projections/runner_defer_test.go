package projections_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/projections"
)

// noted is a projection that applies nothing; the tests read the runner's
// progress.
type noted struct{}

func (noted) Name() string      { return "noted" }
func (noted) Buckets() []string { return nil }
func (noted) Apply(*bbolt.Tx, eventstore.RecordedEvent, eventstore.Event) ([]projections.Change, error) {
	return nil, nil
}

type lazyEvent struct{ N int }

func (lazyEvent) EventType() string { return "test.lazy.v1" }

// deferRig runs a runner whose deferrable events (streams "lazy-*") wait
// an hour for company, and records every position it commits.
type deferRig struct {
	store  *bolt.Store
	codec  *eventstore.Codec
	runner *projections.Runner
	mu     sync.Mutex
	commit []eventstore.Position
	seen   chan eventstore.Position
}

// openStores opens an event store and a read model in a test's
// directory, closed when it ends.
func openStores(t *testing.T) (*bolt.Store, *bbolt.DB) {
	t.Helper()
	dir := t.TempDir()
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	db, err := bbolt.Open(filepath.Join(dir, "readmodel.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return store, db
}

func newDeferRig(t *testing.T) *deferRig {
	t.Helper()
	store, db := openStores(t)
	r := &deferRig{store: store, codec: eventstore.NewCodec(), seen: make(chan eventstore.Position, 100)}
	r.codec.Register(lazyEvent{})
	r.runner = &projections.Runner{
		Name: "test", Store: store, DB: db, Codec: r.codec, Projections: []projections.Projection{noted{}},
		Deferrable:  func(rec eventstore.RecordedEvent) bool { return strings.HasPrefix(rec.Stream, "lazy-") },
		DeferLinger: time.Hour,
		OnProgress: func(p eventstore.Position) {
			r.mu.Lock()
			r.commit = append(r.commit, p)
			r.mu.Unlock()
			r.seen <- p
		},
	}
	if err := r.runner.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := r.runner.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *deferRig) append(t *testing.T, stream string) eventstore.Position {
	t.Helper()
	data, err := r.codec.Encode(lazyEvent{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.store.Append(context.Background(), stream, eventstore.Any, data)
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// next returns the next committed position.
func (r *deferRig) next(t *testing.T) eventstore.Position {
	t.Helper()
	select {
	case p := <-r.seen:
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("nothing committed")
		return 0
	}
}

// A lone deferrable event after other work commits at once (a quiet log);
// one right after it waits for company: it is committed with the next
// event that is not deferrable, in one commit, never alone.
func TestDeferredEventsCommitWithTheNextOther(t *testing.T) {
	r := newDeferRig(t)
	if first, p := r.append(t, "lazy-0"), r.next(t); p != first {
		t.Fatalf("commit at %d, want the lone deferrable event's %d at once", p, first)
	}
	lazy := r.append(t, "lazy-1")
	other := r.append(t, "webhook-1")
	select {
	case p := <-r.seen:
		if p != other {
			t.Fatalf("first commit at %d; want %d (the deferred event %d with the next other one)", p, other, lazy)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing committed")
	}
}

// A reader waiting for a deferred event does not wait out the linger.
func TestWaitForCommitsDeferredEvents(t *testing.T) {
	r := newDeferRig(t)
	r.append(t, "lazy-0")
	r.next(t)
	lazy := r.append(t, "lazy-1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.runner.WaitFor(ctx, lazy); err != nil {
		t.Fatalf("deferred event not committed for a waiter: %v", err)
	}
	r.append(t, "lazy-2")
	r.runner.HurryUp() // as the dispatcher does for an ordered line
	select {
	case p := <-r.seen:
		if p != lazy {
			t.Fatalf("commit at %d before the waiter's %d", p, lazy)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no commit")
	}
	select {
	case <-r.seen:
	case <-time.After(30 * time.Second):
		t.Fatal("HurryUp did not commit the deferred event")
	}
}

// appendMany appends n deferrable events to one stream in one commit and
// returns the last one's position.
func (r *deferRig) appendMany(t *testing.T, stream string, n int) eventstore.Position {
	t.Helper()
	var events []eventstore.EventData
	for i := range n {
		data, err := r.codec.Encode(lazyEvent{N: i})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, data)
	}
	res, err := r.store.Append(context.Background(), stream, eventstore.Any, events...)
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// On a busy log (the last commit carried 32 events or more) a run of
// deferrable events still waits for company as long as on a quiet one,
// rather than committing after the short linger of a busy log: under
// load most batches are such runs, and there a larger commit saves most.
func TestBusyLogDefersRunsOfDeferrableEvents(t *testing.T) {
	r := newDeferRig(t)
	prev := r.append(t, "lazy-0")
	r.next(t) // a lone deferrable event commits at once
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Make the log busy: 40 deferrable events committed as one batch. The
	// batch lingers for company until WaitFor hurries it; should the hurry
	// come before the runner has taken in all 40, it commits fewer, and
	// another run of 40 is tried.
	for tries := 0; ; tries++ {
		busy := r.appendMany(t, "lazy-1", 40)
		if err := r.runner.WaitFor(ctx, busy); err != nil {
			t.Fatal(err)
		}
		last := prev
		for last != busy {
			prev, last = last, r.next(t)
		}
		if busy-prev >= 32 {
			break
		}
		if tries == 10 {
			t.Fatal("no run of 40 deferrable events committed as one batch in 10 tries")
		}
		prev = busy
	}
	lazy := r.append(t, "lazy-2")
	select {
	case p := <-r.seen:
		t.Fatalf("deferrable event %d committed alone at %d right after a busy commit", lazy, p)
	case <-time.After(300 * time.Millisecond): // a busy log's own linger is 2 ms
	}
	other := r.append(t, "webhook-1")
	if p := r.next(t); p != other {
		t.Fatalf("commit at %d; want %d (the deferred event %d with the next other one)", p, other, lazy)
	}
}

// WaitFor returns only once the batch's changes are announced (OnProgress
// and OnCommit have run), while Position already reports the batch for
// the dispatcher those hooks wake: a caller that subscribes to the live
// broker after its write was waited for is not then sent that write's
// change.
func TestWaitForReturnsOnceChangesAreAnnounced(t *testing.T) {
	store, db := openStores(t)
	codec := eventstore.NewCodec()
	codec.Register(lazyEvent{})
	gate, entered := make(chan struct{}), make(chan eventstore.Position, 10)
	runner := &projections.Runner{
		Name: "test", Store: store, DB: db, Codec: codec, Projections: []projections.Projection{noted{}},
		OnProgress: func(p eventstore.Position) { entered <- p; <-gate },
	}
	if err := runner.Open(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	t.Cleanup(func() { cancel(); close(gate); <-done })

	data, err := codec.Encode(lazyEvent{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, "webhook-1", eventstore.Any, data)
	if err != nil {
		t.Fatal(err)
	}
	if p := <-entered; p != res.Position {
		t.Fatalf("OnProgress at %d, want %d", p, res.Position)
	}
	if got := runner.Position(); got != res.Position {
		t.Fatalf("Position %d while the batch's hooks run, want %d", got, res.Position)
	}
	waited := make(chan error, 1)
	go func() { waited <- runner.WaitFor(ctx, res.Position) }()
	select {
	case err := <-waited:
		t.Fatalf("WaitFor returned (%v) before the batch's changes were announced", err)
	case <-time.After(200 * time.Millisecond): // the window in which it would return early
	}
	gate <- struct{}{}
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WaitFor did not return once the changes were announced")
	}
}
