package projections_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
)

// settableClock is the injected clock of the store and the read models.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *settableClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// TestRetentionReadModels expires a week-old delivery from the log and
// shows it gone from the log, the detail, the listing, the stats, the due
// index and the export, while a fresh one stays, and that a rebuild after
// retention gives the same read model as the live one, bucket by bucket.
func TestRetentionReadModels(t *testing.T) {
	clk := &settableClock{now: t0}
	env := testenv.NewWith(t, testenv.Options{Now: clk.Now})
	ctx := context.Background()
	ages := map[string]time.Duration{"message": 8 * 24 * time.Hour, "delivery": 10 * 24 * time.Hour}
	for c, age := range ages {
		if err := env.Store.SetMaxAge(ctx, c, age); err != nil {
			t.Fatal(err)
		}
	}
	env.Runner.Retention = projections.Retention{Ages: ages, Now: clk.Now}
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	wh := createWebhook(t, env, "acme", 1)

	// Old: one succeeded, one still retrying (owed), at t0.
	sim := newDeliverySim(t, env, t0)
	sim.schedule("old1", "acme", wh, false)
	sim.attempt("old1", 200, "", 20*time.Millisecond)
	sim.schedule("old2", "acme", wh, false)
	sim.attempt("old2", 503, "", 30*time.Millisecond)
	// New: nine days on, past the message age but not the delivery age.
	now := t0.Add(9 * 24 * time.Hour)
	clk.Set(now)
	sim.now = now
	sim.schedule("new1", "acme", wh, false)
	sim.attempt("new1", 200, "", 20*time.Millisecond)
	sim.schedule("new2", "acme", wh, false)
	sim.attempt("new2", 503, "", 30*time.Millisecond)
	sim.sync()
	if v, ok, _ := delivery(env, "acme", "old2"); !ok || v.Status != domain.DeliveryStatusRetrying {
		t.Fatalf("before retention old2 = %+v (found %v), want retrying", v.Status, ok)
	}
	// Past the delivery age of the old ones too.
	now = t0.Add(11 * 24 * time.Hour)
	clk.Set(now)
	if n, err := env.Store.(*bolt.Store).Sweep(ctx); err != nil || n == 0 {
		t.Fatalf("sweep removed %d events: %v", n, err)
	}
	if n, err := env.Runner.Prune(ctx); err != nil || n == 0 {
		t.Fatalf("prune removed %d: %v", n, err)
	}

	t.Run("Log", func(t *testing.T) {
		recs, err := env.Store.ReadStream(ctx, domain.DeliveryStream("old1"), 0, 10)
		if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) || len(recs) != 0 {
			t.Fatalf("old1's stream still holds %d events (%v)", len(recs), err)
		}
	})
	t.Run("Detail", func(t *testing.T) {
		for id, want := range map[string]bool{"old1": false, "old2": false, "new1": true, "new2": true} {
			if _, ok, err := delivery(env, "acme", id); err != nil || ok != want {
				t.Errorf("delivery %s found=%v (%v), want %v", id, ok, err, want)
			}
		}
	})
	t.Run("Listing", func(t *testing.T) {
		page, err := deliveries.ListDeliveries(env.ReadDB, "acme", wh, deliveries.DeliveryFilter{}, 10, "")
		if err != nil || ids(page.Deliveries) != "new2,new1" {
			t.Fatalf("listing = %s (%v), want new2,new1", ids(page.Deliveries), err)
		}
		page, _ = deliveries.ListDeliveries(env.ReadDB, "acme", wh, deliveries.DeliveryFilter{Status: "retrying"}, 10, "")
		if ids(page.Deliveries) != "new2" {
			t.Fatalf("retrying listing = %s, want new2", ids(page.Deliveries))
		}
	})
	t.Run("Stats", func(t *testing.T) {
		old, err := deliveries.Stats(env.ReadDB, "acme", wh, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil || old.Attempts != 0 {
			t.Fatalf("old window: %d attempts (%v), want 0", old.Attempts, err)
		}
		fresh, _ := deliveries.Stats(env.ReadDB, "acme", wh, t0.Add(9*24*time.Hour-time.Hour), t0.Add(9*24*time.Hour+time.Hour))
		if fresh.Attempts != 2 {
			t.Fatalf("new window: %d attempts, want 2", fresh.Attempts)
		}
	})
	t.Run("DueAndBuckets", func(t *testing.T) {
		if d := dump(t, env.ReadDB); strings.Contains(d, "old1") || strings.Contains(d, "old2") {
			t.Fatalf("read model still mentions an expired delivery:\n%.3000s", d)
		}
	})
	t.Run("Export", func(t *testing.T) {
		var got []string
		err := env.App.ExportDeliveries(ctx, p, wh, app.ExportQuery{}, func(d app.ExportedDelivery) error {
			got = append(got, d.ID)
			return nil
		})
		if err != nil || strings.Join(got, ",") != "new1,new2" {
			t.Fatalf("export = %v (%v), want new1,new2", got, err)
		}
	})
	t.Run("RebuildEqualsLive", func(t *testing.T) {
		live := dump(t, env.ReadDB)
		for _, b := range []string{"deliveries ", "deliveries_by_created ", "stats ", "due "} {
			if !strings.Contains(live, "\n"+b) {
				t.Fatalf("live read model has no %q entries", b)
			}
		}
		if err := env.Runner.Rebuild(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if rebuilt := dump(t, env.ReadDB); rebuilt != live {
			t.Fatalf("rebuilt read model differs from the live one\nlive:\n%.4000s\nrebuilt:\n%.4000s", live, rebuilt)
		}
	})
}
