package bolt_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

// fakeClock is a settable clock for retention tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRetention(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "events.db")
	s := mustOpen(t, path, bolt.Options{NoSync: true, Now: clock.Now, SweepInterval: -1})
	ctx := t.Context()

	// Three old events in each stream, then two new ones in delivery-1.
	for _, stream := range []string{"delivery-1", "delivery-2", "webhook-1"} {
		if _, err := s.Append(ctx, stream, eventstore.NoStream, ev("x.v1", 0), ev("x.v1", 1), ev("x.v1", 2)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Hour)
	if _, err := s.Append(ctx, "delivery-1", eventstore.Exact(2), ev("x.v1", 3), ev("x.v1", 4)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMaxAge(ctx, "delivery", time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 6 {
		t.Fatalf("sweep removed %d, %v; want 6", n, err)
	}

	t.Run("StreamStartsAtFirstRetained", func(t *testing.T) {
		got, err := s.ReadStream(ctx, "delivery-1", 0, 10)
		if err != nil || len(got) != 2 || got[0].Revision != 3 {
			t.Fatalf("read = %d events from revision %v, %v; want 2 from 3", len(got), revisions(got), err)
		}
	})
	t.Run("EmptiedStreamKeepsRevision", func(t *testing.T) {
		got, err := s.ReadStream(ctx, "delivery-2", 0, 10)
		if err != nil || len(got) != 0 {
			t.Fatalf("read = %d events, %v; want none and no error", len(got), err)
		}
		_, err = s.Append(ctx, "delivery-2", eventstore.NoStream, ev("x.v1", 9))
		if !eventstore.IsWrongExpectedVersion(err) {
			t.Fatalf("NoStream on an emptied stream: err = %v, want wrong expected version", err)
		}
		res, err := s.Append(ctx, "delivery-2", eventstore.Exact(2), ev("x.v1", 3))
		if err != nil || res.NextRevision != 3 {
			t.Fatalf("append = %+v, %v; want revision 3", res, err)
		}
	})
	t.Run("OtherCategoriesKept", func(t *testing.T) {
		if got, err := s.ReadStream(ctx, "webhook-1", 0, 10); err != nil || len(got) != 3 {
			t.Fatalf("read = %d events, %v; want 3", len(got), err)
		}
	})
	t.Run("GlobalLogSkipsRemoved", func(t *testing.T) {
		all, err := s.ReadAll(ctx, eventstore.Start, 100)
		if err != nil || len(all) != 6 {
			t.Fatalf("read all = %d, %v; want 6", len(all), err)
		}
	})
	t.Run("SettingPersists", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, path, bolt.Options{NoSync: true, Now: clock.Now, SweepInterval: -1})
		clock.Advance(2 * time.Hour)
		if n, err := s.Sweep(ctx); err != nil || n != 3 {
			t.Fatalf("sweep after reopen removed %d, %v; want 3", n, err)
		}
		if err := s.SetMaxAge(ctx, "delivery", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, "delivery-3", eventstore.NoStream, ev("x.v1", 0)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(24 * time.Hour)
		if n, err := s.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep without a limit removed %d, %v; want 0", n, err)
		}
	})
	t.Run("ClosedStore", func(t *testing.T) {
		_ = s.Close()
		if _, err := s.Sweep(ctx); !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("sweep on closed store: %v", err)
		}
	})
}

func revisions(evs []eventstore.RecordedEvent) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.Revision)
	}
	return out
}
