// Package redis is the ratelimit.Limiter shared by every webhookd instance
// of a scaled-out deployment: a thin wrapper over redis_rate, whose Lua
// script runs GCRA atomically in Redis on Redis's clock.
package redis

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd/ratelimit"
)

// DefaultPrefix namespaces webhookd's keys in a Redis shared with others.
// (redis_rate puts its own "rate:" in front.)
const DefaultPrefix = "webhookd:rl:"

// Limiter is a ratelimit.Limiter kept in Redis.
type Limiter struct {
	prefix string
	rl     *redis_rate.Limiter
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a limiter on client with keys under DefaultPrefix.
func New(client *redis.Client) *Limiter { return NewPrefixed(client, DefaultPrefix) }

// NewPrefixed returns a limiter whose keys start with prefix, for tests and
// for deployments that share one Redis between environments.
func NewPrefixed(client *redis.Client, prefix string) *Limiter {
	return &Limiter{prefix: prefix, rl: redis_rate.NewLimiter(client)}
}

// Allow implements ratelimit.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string, limit ratelimit.Limit) (ratelimit.Result, error) {
	if err := limit.Validate(); err != nil {
		return ratelimit.Result{}, err
	}
	res, err := l.rl.Allow(ctx, l.prefix+key, redis_rate.Limit{Rate: limit.Rate, Burst: limit.Burst, Period: limit.Period})
	if err != nil {
		return ratelimit.Result{}, fmt.Errorf("rate limit %s: %w", key, err)
	}
	out := ratelimit.Result{
		Allowed:    res.Allowed > 0,
		Remaining:  res.Remaining,
		RetryAfter: res.RetryAfter,
		ResetAfter: res.ResetAfter,
	}
	if out.RetryAfter < 0 { // redis_rate's "allowed"
		out.RetryAfter = 0
	}
	return out, nil
}
