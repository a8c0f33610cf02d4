// Package ratelimittest is the suite every ratelimit.Limiter passes, so the
// in-process and Redis limiters are interchangeable.
//
// It runs on the real clock, because Redis takes time from the server.
// Limits whose refill is minutes long make most checks independent of how
// fast the machine is; only Refill sleeps, for a few hundred milliseconds,
// and it asserts outcomes, never durations of the run. Keys carry a random
// suffix so runs against a shared Redis do not collide.
package ratelimittest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/ratelimit"
)

// Run runs the suite, building a fresh limiter for each subtest.
func Run(t *testing.T, newLimiter func(t *testing.T) ratelimit.Limiter) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, ratelimit.Limiter)
	}{
		{"BurstThenDenied", testBurstThenDenied},
		{"RetryAndResetAfter", testRetryAndResetAfter},
		{"Refill", testRefill},
		{"IndependentKeys", testIndependentKeys},
		{"ConcurrentCallersNeverExceed", testConcurrent},
		{"ErrInvalidLimit", testInvalidLimit},
		{"CancelledContext", testCancelledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newLimiter(t)) })
	}
}

// slow refills one unit every twelve minutes: nothing refills during a test.
var slow = ratelimit.Limit{Rate: 5, Burst: 5, Period: time.Hour}

// slack absorbs float rounding in Redis's arithmetic on upper bounds.
const slack = time.Millisecond

func newKey() string { return "webhook-" + rand.Text() }

func allow(t *testing.T, l ratelimit.Limiter, key string, limit ratelimit.Limit) ratelimit.Result {
	t.Helper()
	res, err := l.Allow(t.Context(), key, limit)
	if err != nil {
		t.Fatalf("allow %s under %s: %v", key, limit, err)
	}
	return res
}

func testBurstThenDenied(t *testing.T, l ratelimit.Limiter) {
	key := newKey()
	for i := range slow.Burst {
		res := allow(t, l, key, slow)
		if !res.Allowed {
			t.Fatalf("call %d of a burst of %d denied", i+1, slow.Burst)
		}
		// redis_rate truncates a float quotient, which may land one below
		// the exact count.
		want := slow.Burst - 1 - i
		if res.Remaining > want || res.Remaining < want-1 {
			t.Fatalf("call %d: remaining %d, want %d", i+1, res.Remaining, want)
		}
		if res.RetryAfter != 0 {
			t.Fatalf("call %d allowed with retry after %s", i+1, res.RetryAfter)
		}
	}
	for i := range 3 {
		if res := allow(t, l, key, slow); res.Allowed || res.Remaining != 0 {
			t.Fatalf("call %d past the burst = %+v, want denied with none remaining", i+1, res)
		}
	}
}

func testRetryAndResetAfter(t *testing.T, l ratelimit.Limiter) {
	key := newKey()
	interval := slow.Period / time.Duration(slow.Rate)
	first := allow(t, l, key, slow)
	if first.ResetAfter <= 0 || first.ResetAfter > interval+slack {
		t.Fatalf("one call made reset after %s, want (0, %s]", first.ResetAfter, interval)
	}
	for range slow.Burst - 1 {
		allow(t, l, key, slow)
	}
	res := allow(t, l, key, slow)
	if res.Allowed {
		t.Fatal("allowed past the burst")
	}
	// The next unit refills one interval after the first call; the test has
	// taken a tiny part of that interval.
	if res.RetryAfter <= interval/2 || res.RetryAfter > interval+slack {
		t.Fatalf("retry after %s, want about %s", res.RetryAfter, interval)
	}
	full := time.Duration(slow.Burst) * interval
	if res.ResetAfter <= full-interval || res.ResetAfter > full+slack {
		t.Fatalf("reset after %s, want about %s", res.ResetAfter, full)
	}
}

func testRefill(t *testing.T, l ratelimit.Limiter) {
	key := newKey()
	fast := ratelimit.Limit{Rate: 10, Burst: 1, Period: time.Second} // one per 100 ms
	if !allow(t, l, key, fast).Allowed {
		t.Fatal("first call denied")
	}
	res := allow(t, l, key, fast)
	if res.Allowed {
		t.Fatal("second immediate call allowed with a burst of 1")
	}
	if res.RetryAfter <= 0 || res.RetryAfter > 100*time.Millisecond+slack {
		t.Fatalf("retry after %s, want (0, 100ms]", res.RetryAfter)
	}
	// Waiting as told (plus slack for the distance between our clock and the
	// limiter's) must be enough; a denial here means RetryAfter lied.
	time.Sleep(res.RetryAfter + 50*time.Millisecond)
	if res := allow(t, l, key, fast); !res.Allowed {
		t.Fatalf("denied after waiting the retry time: %+v", res)
	}
}

func testIndependentKeys(t *testing.T, l ratelimit.Limiter) {
	a, b := newKey(), newKey()
	for range slow.Burst {
		allow(t, l, a, slow)
	}
	if allow(t, l, a, slow).Allowed {
		t.Fatal("key a allowed past its burst")
	}
	if res := allow(t, l, b, slow); !res.Allowed || res.Remaining < slow.Burst-2 {
		t.Fatalf("key b after a was exhausted = %+v, want a fresh burst", res)
	}
}

func testConcurrent(t *testing.T, l ratelimit.Limiter) {
	const callers, each = 50, 4
	limit := ratelimit.Limit{Rate: 20, Burst: 20, Period: time.Hour}
	key := newKey()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			for range each {
				res, err := l.Allow(t.Context(), key, limit)
				if err != nil {
					t.Errorf("allow: %v", err)
					return
				}
				if res.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if got := allowed.Load(); got != int64(limit.Burst) {
		t.Fatalf("%d concurrent calls allowed %d, want exactly the burst of %d", callers*each, got, limit.Burst)
	}
}

func testInvalidLimit(t *testing.T, l ratelimit.Limiter) {
	for _, lim := range []ratelimit.Limit{{}, {Rate: 0, Burst: 1, Period: time.Second}, {Rate: 1, Burst: 0, Period: time.Second}, {Rate: 1, Burst: 1}} {
		if _, err := l.Allow(t.Context(), newKey(), lim); !errors.Is(err, ratelimit.ErrInvalidLimit) {
			t.Fatalf("limit %+v: err = %v, want ErrInvalidLimit", lim, err)
		}
	}
}

func testCancelledContext(t *testing.T, l ratelimit.Limiter) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Allow(ctx, newKey(), slow); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// Benchmark measures Allow across many keys from parallel callers and
// reports allows/s, the figure that bounds deliveries a second. It runs 8
// callers per CPU, as many deliveries are in flight at once; a Redis
// limiter is bound by round trips, not by CPU.
func Benchmark(b *testing.B, l ratelimit.Limiter) {
	const keys = 1024
	names := make([]string, keys)
	for i := range names {
		names[i] = newKey()
	}
	limit := ratelimit.PerSecond(1_000_000)
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			key := names[next.Add(1)%keys]
			if _, err := l.Allow(ctx, key, limit); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "allows/s")
}
