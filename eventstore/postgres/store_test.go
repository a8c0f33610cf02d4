package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/webhookd/webhookd/eventstore"
)

func testEvent(n int) eventstore.EventData {
	return eventstore.EventData{ID: uuid.NewString(), Type: "test.e.v1", Data: fmt.Appendf(nil, `{"n":%d}`, n)}
}

// TestSubscriptionSurvivesTerminatedConnections kills every server
// connection of the database (pool, listener, notifier) while a
// subscription follows a stream, and checks the subscription resumes and
// delivers every revision once, with no gap, and that appends succeed on
// fresh connections.
func TestSubscriptionSurvivesTerminatedConnections(t *testing.T) {
	dbURL := newDatabase(t)
	s := mustOpen(t, dbURL, Options{SweepInterval: -1})
	ctx := t.Context()
	stream := "reconnect-" + uuid.NewString()
	sub, err := s.SubscribeAll(ctx, eventstore.Start, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const before, after = 50, 50
	for i := range before {
		if _, err := s.Append(ctx, stream, eventstore.Any, testEvent(i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	expectRevisions(t, sub, stream, 0, before)
	if n := terminateBackends(t, dbURL); n == 0 {
		t.Fatal("terminated no connection")
	}
	// The subscription reads first, on a pooled connection that is dead.
	read := make(chan struct{})
	go func() {
		defer close(read)
		expectRevisions(t, sub, stream, before, before+after)
	}()
	for i := before; i < before+after; i++ {
		if _, err := s.Append(ctx, stream, eventstore.Exact(uint64(i-1)), testEvent(i)); err != nil {
			t.Fatalf("append %d after the connections were terminated: %v", i, err)
		}
	}
	<-read
}

// expectRevisions reads revisions from..to-1 of stream from sub, in order.
func expectRevisions(t *testing.T, sub eventstore.Subscription, stream string, from, to int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for want := from; want < to; want++ {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Errorf("next (want revision %d): %v", want, err)
			return
		}
		if e.Stream != stream || e.Revision != uint64(want) {
			t.Errorf("got %s@%d, want %s@%d", e.Stream, e.Revision, stream, want)
			return
		}
	}
}

// terminateBackends ends every other server connection to the database
// at dbURL and returns how many it ended.
func terminateBackends(t *testing.T, dbURL string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigrateConcurrentlyAndAgain: instances starting at once on an empty
// database apply the schema once between them, and reopening applies
// nothing.
func TestMigrateConcurrentlyAndAgain(t *testing.T) {
	dbURL := newDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := Open(t.Context(), dbURL, Options{SweepInterval: -1})
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	s := mustOpen(t, dbURL, Options{SweepInterval: -1})
	var versions, top int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*), max(version) FROM webhookd_migrations`).Scan(&versions, &top); err != nil {
		t.Fatal(err)
	}
	if versions != len(migrations)-1 || top != len(migrations)-1 {
		t.Fatalf("migrations table has %d rows up to %d, want %d", versions, top, len(migrations)-1)
	}
}

// TestSweepRemovesOldEventsOfCategory: retention removes a category's
// events older than its max age, leaves other categories alone, and
// keeps the stream's head so the next append continues its revisions.
func TestSweepRemovesOldEventsOfCategory(t *testing.T) {
	dbURL := newDatabase(t)
	now := time.Now()
	var clock sync.Mutex
	s := mustOpen(t, dbURL, Options{SweepInterval: -1, Now: func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		return now
	}})
	ctx := t.Context()
	old, kept := "ttl-"+uuid.NewString(), "keep-"+uuid.NewString()
	for _, stream := range []string{old, kept} {
		if _, err := s.Append(ctx, stream, eventstore.NoStream, testEvent(0), testEvent(1)); err != nil {
			t.Fatal(err)
		}
	}
	// The sweep looks only below the horizon, which any transaction on the
	// server holds back (other tests' too): ReadAll returns the four events
	// once they are below it, and the horizon only moves on.
	for deadline := time.Now().Add(30 * time.Second); ; {
		got, err := s.ReadAll(ctx, eventstore.Start, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read all: %d events after 30 s, want 4", len(got))
		}
	}
	if err := s.SetMaxAge(ctx, "ttl", time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep within the max age removed %d, %v; want 0", n, err)
	}
	clock.Lock()
	now = now.Add(2 * time.Hour)
	clock.Unlock()
	if n, err := s.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("sweep after the max age removed %d, %v; want 2", n, err)
	}
	if got, err := s.ReadStream(ctx, old, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("expired stream reads %d events, %v; want none", len(got), err)
	}
	if got, err := s.ReadStream(ctx, kept, 0, 10); err != nil || len(got) != 2 {
		t.Fatalf("other category reads %d events, %v; want 2", len(got), err)
	}
	res, err := s.Append(ctx, old, eventstore.Exact(1), testEvent(2))
	if err != nil || res.NextRevision != 2 {
		t.Fatalf("append after the sweep = %+v, %v; want revision 2", res, err)
	}
}
