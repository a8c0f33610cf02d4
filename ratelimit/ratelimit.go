// Package ratelimit caps how often webhookd calls each webhook's endpoint.
//
// The algorithm is GCRA (the generic cell rate algorithm) with the exact
// semantics of github.com/go-redis/redis_rate: one Limiter interface with
// an in-process implementation (NewGCRA, for the single-binary default) and
// a Redis one (package ratelimit/redis, shared by every instance in a
// scaled-out deployment). Both pass the suite in ratelimit/ratelimittest.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limiter decides whether one more event for key may happen now.
type Limiter interface {
	// Allow takes one unit from key's allowance under limit and reports
	// whether it was available. A denied call takes nothing.
	Allow(ctx context.Context, key string, limit Limit) (Result, error)
}

// Limit is Rate events per Period, with bursts of up to Burst events at
// once. It has the same fields as redis_rate.Limit so the Redis adapter
// passes it straight through.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerSecond allows rate events a second, in bursts of up to rate.
func PerSecond(rate int) Limit { return Limit{Rate: rate, Burst: rate, Period: time.Second} }

// PerMinute allows rate events a minute, in bursts of up to rate.
func PerMinute(rate int) Limit { return Limit{Rate: rate, Burst: rate, Period: time.Minute} }

// PerHour allows rate events an hour, in bursts of up to rate.
func PerHour(rate int) Limit { return Limit{Rate: rate, Burst: rate, Period: time.Hour} }

// ErrInvalidLimit is returned for a limit without a positive rate, burst
// and period, which GCRA cannot compute (redis_rate would divide by zero).
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// Validate reports whether GCRA can apply the limit.
func (l Limit) Validate() error {
	if l.Rate <= 0 || l.Burst <= 0 || l.Period <= 0 {
		return fmt.Errorf("%w: %s", ErrInvalidLimit, l)
	}
	return nil
}

// emissionInterval is the time one event's allowance takes to refill.
func (l Limit) emissionInterval() time.Duration {
	return l.Period / time.Duration(l.Rate)
}

func (l Limit) String() string {
	return fmt.Sprintf("%d per %s (burst %d)", l.Rate, l.Period, l.Burst)
}

// Result is the outcome of one Allow call, as redis_rate reports it.
type Result struct {
	// Allowed is whether the event may happen now.
	Allowed bool
	// Remaining is how many more events could happen right now.
	Remaining int
	// RetryAfter is how long until an event would be allowed: zero when
	// this one was. (redis_rate says -1; zero is what callers schedule by.)
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to a full burst.
	ResetAfter time.Duration
}
