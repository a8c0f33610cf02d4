package ratelimit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/ratelimit"
	"github.com/webhookd/webhookd/ratelimit/ratelimittest"
)

func TestGCRA(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimit.Limiter { return ratelimit.NewGCRA(time.Now) })
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestGCRASemantics walks one key through redis_rate's arithmetic on a fake
// clock, with values worked out by hand from the Lua script.
func TestGCRASemantics(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := ratelimit.NewGCRA(clock.Now)
	limit := ratelimit.Limit{Rate: 10, Burst: 3, Period: time.Second} // T = 100 ms
	ms := time.Millisecond
	steps := []struct {
		advance time.Duration
		want    ratelimit.Result
	}{
		{0, ratelimit.Result{Allowed: true, Remaining: 2, ResetAfter: 100 * ms}},
		{0, ratelimit.Result{Allowed: true, Remaining: 1, ResetAfter: 200 * ms}},
		{0, ratelimit.Result{Allowed: true, Remaining: 0, ResetAfter: 300 * ms}},
		{0, ratelimit.Result{RetryAfter: 100 * ms, ResetAfter: 300 * ms}},
		{50 * ms, ratelimit.Result{RetryAfter: 50 * ms, ResetAfter: 250 * ms}},
		{50 * ms, ratelimit.Result{Allowed: true, Remaining: 0, ResetAfter: 300 * ms}},
		{250 * ms, ratelimit.Result{Allowed: true, Remaining: 1, ResetAfter: 150 * ms}}, // diff 150 ms: 1.5 units
		{0, ratelimit.Result{Allowed: true, Remaining: 0, ResetAfter: 250 * ms}},
		{time.Hour, ratelimit.Result{Allowed: true, Remaining: 2, ResetAfter: 100 * ms}},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		got, err := g.Allow(t.Context(), "k", limit)
		if err != nil {
			t.Fatal(err)
		}
		if got != st.want {
			t.Fatalf("step %d (+%s): got %+v, want %+v", i, st.advance, got, st.want)
		}
	}
}

// TestGCRABurstBelowRate checks a burst smaller than the rate: one event
// per interval, never two back to back.
func TestGCRABurstBelowRate(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	g := ratelimit.NewGCRA(clock.Now)
	limit := ratelimit.Limit{Rate: 100, Burst: 1, Period: time.Second} // T = 10 ms
	allowed := 0
	for range 1000 { // one second in 1 ms steps
		res, err := g.Allow(t.Context(), "k", limit)
		if err != nil {
			t.Fatal(err)
		}
		if res.Allowed {
			allowed++
		}
		clock.Advance(time.Millisecond)
	}
	if allowed != 100 {
		t.Fatalf("allowed %d in one second, want 100", allowed)
	}
}

// TestGCRAEviction checks that keys past their reset time are let go while
// keys still limiting are kept.
func TestGCRAEviction(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	g := ratelimit.NewGCRA(clock.Now)
	touch := func(prefix string, n int, limit ratelimit.Limit) {
		for i := range n {
			if _, err := g.Allow(t.Context(), fmt.Sprintf("%s-%d", prefix, i), limit); err != nil {
				t.Fatal(err)
			}
		}
	}
	touch("idle", 3000, ratelimit.PerSecond(10)) // resets after 100 ms
	touch("live", 10, ratelimit.PerHour(1))      // resets after an hour
	if n := g.Len(); n != 3010 {
		t.Fatalf("holding %d keys, want 3010", n)
	}
	clock.Advance(2 * time.Minute)
	// 3000 new keys reach every one of the 64 shards with overwhelming
	// likelihood, and each shard sweeps on its first call.
	touch("new", 3000, ratelimit.PerSecond(10))
	if n := g.Len(); n != 3010 {
		t.Fatalf("holding %d keys, want the 3000 new and 10 live ones", n)
	}
	// A live key kept its state: still exhausted.
	if res, _ := g.Allow(t.Context(), "live-0", ratelimit.PerHour(1)); res.Allowed {
		t.Fatal("live key forgot its state")
	}
}

func BenchmarkGCRA(b *testing.B) {
	ratelimittest.Benchmark(b, ratelimit.NewGCRA(time.Now))
}
