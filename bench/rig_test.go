package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/runtimegc"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/webhooks"
)

const account = "bench"

// eventData is the payload every benchmark event carries: about 200 bytes,
// like a typical email event.
var eventData = json.RawMessage(`{"to":"someone@example.com","from":"news@example.org","subject":"Your weekly digest","messageId":"0190d7a4-1c9e-7b5e-9f0a-3c2d1e4f5a6b","tags":["digest","weekly"],"ip":"192.0.2.10"}`)

// rig is a durable webhookd core with benchmark event types and an account.
type rig struct {
	env   *testenv.Env
	owner app.Principal
	types []string
}

// newRig starts a durable core (fsync on every commit) whose catalogue has
// n event types bench.t0 … bench.t<n-1>.
func newRig(tb testing.TB, n int, senderTimeout time.Duration) *rig {
	tb.Helper()
	return newRigIn(tb, n, senderTimeout, "")
}

// newRigIn is newRig on the databases in dir; "" means a fresh directory.
func newRigIn(tb testing.TB, n int, senderTimeout time.Duration, dir string) *rig {
	tb.Helper()
	runtimegc.Apply() // the GC setting webhookd serve uses
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("BENCH_LOG") != "" {
		logger = slog.Default()
	}
	env := testenv.NewWith(tb, testenv.Options{Durable: true, SenderTimeout: senderTimeout, Logger: logger, Dir: dir})
	r := &rig{env: env}
	var extra []domain.EventType
	for i := range n {
		name := fmt.Sprintf("bench.t%d", i)
		r.types = append(r.types, name)
		extra = append(extra, domain.EventType{Name: name, Description: "benchmark event", Sample: json.RawMessage(`{}`)})
	}
	cat, err := env.App.Catalogue.WithExtra(extra)
	if err != nil {
		tb.Fatal(err)
	}
	env.App.Catalogue = cat
	r.owner, _ = env.AccountKey(tb, account, domain.ScopeAccount)
	return r
}

// webhook creates a webhook delivering types to recv and proves its
// ownership through the real verification fetch.
func (r *rig) webhook(tb testing.TB, recv *receiver, maxConcurrency int, types ...string) webhooks.WebhookView {
	tb.Helper()
	return r.webhookAt(tb, recv, "/hook", maxConcurrency, types...)
}

// webhookAt is webhook with the endpoint at path on recv, so that many
// webhooks can share one receiver.
func (r *rig) webhookAt(tb testing.TB, recv *receiver, path string, maxConcurrency int, types ...string) webhooks.WebhookView {
	tb.Helper()
	ctx := context.Background()
	v, err := r.env.App.CreateWebhook(ctx, r.owner, domain.CreateWebhook{
		Name: "bench", URL: recv.srv.URL + path, EventTypes: types, MaxConcurrency: maxConcurrency,
	})
	if err != nil {
		tb.Fatal(err)
	}
	recv.placeFile("/"+v.Verification.File.Name, v.Verification.File.Token)
	v, ok, reason, err := r.env.App.VerifyWebhook(ctx, r.owner, v.ID)
	if err != nil || !ok {
		tb.Fatalf("verify webhook: ok=%v reason=%q err=%v", ok, reason, err)
	}
	return v
}

// publishAll publishes events in batches of app.MaxPublishBatch, the
// publisher's bulk path, and fails on any refusal.
func (r *rig) publishAll(tb testing.TB, events []app.PublishInput) {
	tb.Helper()
	for len(events) > 0 {
		n := min(len(events), app.MaxPublishBatch)
		res, err := r.env.App.Publish(context.Background(), events[:n])
		if err != nil {
			tb.Fatal(err)
		}
		for _, x := range res {
			if x.Err != nil {
				tb.Fatalf("event refused: %v", x.Err)
			}
		}
		events = events[n:]
	}
}

// roundRobin returns n events whose types cycle through types, so each
// type gets an even share.
func roundRobin(n int, types []string) []app.PublishInput {
	events := make([]app.PublishInput, n)
	for i := range events {
		events[i] = app.PublishInput{Account: account, Type: types[i%len(types)], Data: eventData}
	}
	return events
}

// succeededResult marks a succeeded attempt in a stored
// delivery.attempt_recorded event (its result field), so counting one
// needs no decoding.
var succeededResult = []byte(`"result":"succeeded"`)

// outcomes counts delivery outcomes as the store records them, by
// following the log from the current position, so "done" means the
// attempts are durable, not merely sent.
type outcomes struct {
	succeeded atomic.Int64
	mu        sync.Mutex
	waiters   []waiter
}

type waiter struct {
	n    int64
	done chan time.Time
}

func (r *rig) followOutcomes(tb testing.TB) *outcomes {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub, err := r.env.Store.SubscribeAll(ctx, r.env.Runner.Position(), eventstore.Filter{TypePrefixes: []string{
		domain.DeliverySucceeded{}.EventType(), domain.DeliveryAttemptRecorded{}.EventType()}})
	if err != nil {
		tb.Fatal(err)
	}
	o := &outcomes{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			rec, err := sub.Next(ctx)
			if err != nil {
				return
			}
			if rec.Type == (domain.DeliveryAttemptRecorded{}).EventType() && !bytes.Contains(rec.Data, succeededResult) {
				continue // an attempt that did not succeed
			}
			n := o.succeeded.Add(1)
			o.mu.Lock()
			kept := o.waiters[:0]
			for _, w := range o.waiters {
				if n >= w.n {
					w.done <- time.Now()
				} else {
					kept = append(kept, w)
				}
			}
			o.waiters = kept
			o.mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		cancel()
		sub.Close()
		<-done
	})
	return o
}

// waitSucceeded returns when n deliveries have been recorded as succeeded,
// failing after timeout.
func (o *outcomes) waitSucceeded(tb testing.TB, n int64, timeout time.Duration) time.Time {
	tb.Helper()
	w := waiter{n: n, done: make(chan time.Time, 1)}
	o.mu.Lock()
	if o.succeeded.Load() >= n {
		o.mu.Unlock()
		return time.Now()
	}
	o.waiters = append(o.waiters, w)
	o.mu.Unlock()
	select {
	case at := <-w.done:
		return at
	case <-time.After(timeout):
		tb.Fatalf("%d of %d deliveries recorded within %s", o.succeeded.Load(), n, timeout)
		return time.Time{}
	}
}

// envInt reads a size knob from the environment, so a quick run can shrink
// a benchmark without editing it.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// envDuration reads a duration knob from the environment.
func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
