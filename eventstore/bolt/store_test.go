package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

func ev(typ string, n int) eventstore.EventData {
	return eventstore.EventData{ID: uuid.NewString(), Type: typ, Data: fmt.Appendf(nil, `{"n":%d}`, n)}
}

func TestReopenKeepsEventsAndPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	ctx := t.Context()
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Append(ctx, "webhook-1", eventstore.NoStream, ev("a.v1", 0), ev("a.v1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, bolt.Options{})
	res, err := s.Append(ctx, "webhook-1", eventstore.Exact(1), ev("a.v1", 2))
	if err != nil {
		t.Fatalf("append after reopen: %v", err)
	}
	if first.Position != 2 || res.Position != 3 || res.NextRevision != 2 {
		t.Fatalf("positions %d then %+v, want 2 then position 3 revision 2", first.Position, res)
	}
	all, err := s.ReadAll(ctx, eventstore.Start, 10)
	if err != nil || len(all) != 3 {
		t.Fatalf("read all = %d events, %v; want 3", len(all), err)
	}
}

// TestIDStoredInAnotherStream pins down the idempotency rule: an ID is
// replayed only into the stream and revisions where it already sits.
func TestIDStoredInAnotherStream(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true})
	ctx := t.Context()
	e := ev("a.v1", 0)
	if _, err := s.Append(ctx, "webhook-1", eventstore.NoStream, e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "webhook-2", eventstore.Any, e); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("same ID in another stream: err = %v, want ErrInvalidEvent", err)
	}
	if _, err := s.Append(ctx, "webhook-1", eventstore.Any, e, ev("a.v1", 1)); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("stored ID followed by a new one: err = %v, want ErrInvalidEvent", err)
	}
	if _, err := s.Append(ctx, "webhook-1", eventstore.Any); !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("no events: err = %v, want ErrInvalidEvent", err)
	}
}

// TestGroupCommitIsolatesFailures sends many requests that land in the same
// commits, half of them doomed, and checks each got its own answer.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{})
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Go(func() {
			exp := eventstore.NoStream
			if i%2 == 1 {
				exp = eventstore.Exact(3) // the stream does not exist: must fail
			}
			_, errs[i] = s.Append(ctx, fmt.Sprintf("delivery-%d", i), exp, ev("d.v1", i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 && err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if i%2 == 1 && !eventstore.IsWrongExpectedVersion(err) {
			t.Fatalf("append %d: err = %v, want wrong expected version", i, err)
		}
	}
	all, err := s.ReadAll(ctx, eventstore.Start, 100)
	if err != nil || len(all) != 32 {
		t.Fatalf("read all = %d events, %v; want 32", len(all), err)
	}
	for i, e := range all {
		if e.Position != eventstore.Position(i+1) {
			t.Fatalf("event %d at position %d: positions must be dense", i, e.Position)
		}
	}
}

// TestCloseWaitsForAppends closes while appends are queued: each either
// commits (and is then readable) or fails with ErrClosed.
func TestCloseWaitsForAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for i := range 32 {
		wg.Go(func() {
			for j := 0; ; j++ {
				e := ev("c.v1", j)
				_, err := s.Append(context.Background(), fmt.Sprintf("w-%d", i), eventstore.Any, e)
				if errors.Is(err, eventstore.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				mu.Lock()
				acked[e.ID] = true
				mu.Unlock()
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s = mustOpen(t, path, bolt.Options{})
	all, err := s.ReadAll(t.Context(), eventstore.Start, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(acked) {
		t.Fatalf("%d events stored, %d acknowledged", len(all), len(acked))
	}
	for _, e := range all {
		if !acked[e.ID] {
			t.Fatalf("event %s stored but never acknowledged", e.ID)
		}
	}
}

// TestReadStreamDuringAppends reads streams while they are appended to and
// their index entries move from memory to disk: every read must return an
// unbroken run of revisions from 0 that includes all acknowledged events.
func TestReadStreamDuringAppends(t *testing.T) {
	s := mustOpen(t, filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true})
	ctx := t.Context()
	const streams, perStream = 4, 3000
	var acked [streams]atomic.Int64
	var wg sync.WaitGroup
	for w := range streams {
		wg.Go(func() {
			for i := range perStream {
				if _, err := s.Append(ctx, fmt.Sprintf("read-%d", w), eventstore.Any, ev("r.v1", i)); err != nil {
					t.Errorf("append: %v", err)
					return
				}
				acked[w].Add(1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for reads := 0; ; reads++ {
		w := reads % streams
		want := acked[w].Load()
		evs, err := s.ReadStream(ctx, fmt.Sprintf("read-%d", w), 0, perStream+1)
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatal(err)
		}
		if int64(len(evs)) < want {
			t.Fatalf("read %d events of read-%d after %d were acknowledged", len(evs), w, want)
		}
		for i, e := range evs {
			if e.Revision != uint64(i) {
				t.Fatalf("read-%d: event %d has revision %d", w, i, e.Revision)
			}
		}
		select {
		case <-done:
			if reads < 100 {
				t.Fatalf("only %d reads overlapped the appends", reads)
			}
			return
		default:
		}
	}
}
