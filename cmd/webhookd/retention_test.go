package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/internal/testenv"
)

// clock is a settable clock, so retention is seen to act without waiting.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// swept opens the embedded store at path on clk, appends three events to
// each stream, moves the clock by age, and returns how many events the
// retention sweep removes.
func swept(t *testing.T, path string, clk *clock, age time.Duration, streams ...string) int {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{NoSync: true, Now: clk.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, stream := range streams {
		evs := []eventstore.EventData{{ID: uuid.NewString(), Type: "x.v1"}, {ID: uuid.NewString(), Type: "x.v1"}, {ID: uuid.NewString(), Type: "x.v1"}}
		if _, err := s.Append(t.Context(), stream, eventstore.Any, evs...); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(age)
	n, err := s.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// apply runs applyRetention on the embedded store at path.
func apply(t *testing.T, path string, clk *clock, ages map[string]time.Duration) {
	t.Helper()
	s, err := bolt.Open(path, bolt.Options{NoSync: true, Now: clk.Now, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := applyRetention(t.Context(), s, ages, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
}

func TestApplyRetention(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("NamedCategoriesExpire", func(t *testing.T) {
		path, clk := filepath.Join(t.TempDir(), "events.db"), &clock{now: start}
		apply(t, path, clk, map[string]time.Duration{"message": time.Hour, "delivery": 2 * time.Hour})
		// 90 minutes on, message events are past their hour and deliveries
		// within their two; webhook streams are never limited.
		if n := swept(t, path, clk, 90*time.Minute, "message-1", "delivery-1", "webhook-1"); n != 3 {
			t.Fatalf("sweep removed %d events, want message-1's 3", n)
		}
	})
	t.Run("UnnamedCategoryLosesItsLimit", func(t *testing.T) {
		path, clk := filepath.Join(t.TempDir(), "events.db"), &clock{now: start}
		apply(t, path, clk, map[string]time.Duration{"message": time.Hour})
		apply(t, path, clk, map[string]time.Duration{"delivery": time.Hour}) // a later start without message=
		if n := swept(t, path, clk, 2*time.Hour, "message-1", "delivery-1"); n != 3 {
			t.Fatalf("sweep removed %d events, want delivery-1's 3 (message's limit lifted)", n)
		}
	})
}

// TestServeAppliesRetention starts the real service with --retention and
// finds the limit in its store afterwards.
func TestServeAppliesRetention(t *testing.T) {
	dir := t.TempDir()
	m := NewMain()
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--retention", "delivery=7d"}); err != nil {
		t.Fatal(err)
	}
	m.Logger = slog.New(slog.DiscardHandler)
	if err := m.Run(t.Context()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	if n := swept(t, filepath.Join(dir, "events.db"), clk, 8*24*time.Hour, "delivery-1", "message-1"); n != 3 {
		t.Fatalf("sweep removed %d events, want delivery-1's 3", n)
	}
}

// TestServeRunsThePruner starts the real service with --retention, its
// prune interval shortened and its retention clock held by the test, and
// watches serve's own pruner drop a delivery from the read models once
// the clock passes its age: the retention tests above drive the pruner
// directly, this one shows serve runs it.
func TestServeRunsThePruner(t *testing.T) {
	m := NewMain()
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--dev", "--retention", "delivery=7d"}); err != nil {
		t.Fatal(err)
	}
	m.Logger = slog.New(slog.DiscardHandler)
	m.Stdout = new(bytes.Buffer)
	clk := &clock{now: time.Now()}
	m.pruneEvery, m.retentionNow = 10*time.Millisecond, clk.Now
	if err := m.Run(t.Context()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	waitReady(t, "http://"+m.HTTP.Addr())

	owner := client(m, m.DemoKey())
	recv := testenv.NewReceiver(t)
	hook, ue := owner.CreateWebhook(t, map[string]any{"name": "kept a week", "url": recv.URL + "/in", "eventTypes": []string{"email.open"}})
	if hook == nil || len(ue) > 0 {
		t.Fatalf("createWebhook: %v", ue)
	}
	recv.PlaceFile(hook.Verification.FileName, hook.Verification.FileContent)
	var verified struct {
		VerifyWebhook struct{ Verified bool } `json:"verifyWebhook"`
	}
	owner.MustData(t, `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { verified } }`, map[string]any{"id": hook.ID}, &verified)
	if !verified.VerifyWebhook.Verified {
		t.Fatal("webhook not verified")
	}
	res, err := m.Core.App.Publish(t.Context(), []app.PublishInput{{Account: "demo", Type: "email.open", Data: json.RawMessage(`{}`)}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("publish: %v %v", err, res[0].Err)
	}
	recv.WaitFor(t, 1, 30*time.Second)
	listed := func() int {
		var out struct {
			Deliveries struct {
				Nodes []struct{ ID string } `json:"nodes"`
			} `json:"deliveries"`
		}
		owner.MustData(t, `query($w: ID!) { deliveries(webhook: $w, first: 5) { nodes { id } } }`, map[string]any{"w": hook.ID}, &out)
		return len(out.Deliveries.Nodes)
	}
	if n := listed(); n != 1 {
		t.Fatalf("%d deliveries listed before they expire, want 1", n)
	}
	clk.Advance(8 * 24 * time.Hour)
	waitUntil(t, 30*time.Second, func() bool { return listed() == 0 })
}
