package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// GCRA is the in-process Limiter. It keeps, per key, the theoretical
// arrival time (TAT) of redis_rate's Lua script and runs the same
// arithmetic, so a webhook is limited the same way with or without Redis.
//
// Keys are spread over shards, each with its own lock, so that concurrent
// deliveries to different webhooks rarely contend. A key whose TAT has
// passed is indistinguishable from a new one (Redis lets it expire), so
// shards drop such keys as they go: memory is bounded by the keys used
// within their own reset time, not by every key ever seen.
type GCRA struct {
	now    func() time.Time
	seed   maphash.Seed
	shards [gcraShards]gcraShard
}

const (
	gcraShards = 64
	// sweepEvery is how often a shard looks for expired keys. A sweep costs
	// one pass over the shard, so amortised over the calls in between it is
	// small, while expired keys linger at most this long.
	sweepEvery = time.Minute
)

type gcraShard struct {
	mu        sync.Mutex
	tat       map[string]time.Time
	lastSweep time.Time
	_         [24]byte // keep shards' locks on separate cache lines
}

var _ Limiter = (*GCRA)(nil)

// NewGCRA returns an in-process limiter reading time from now (time.Now in
// production; a fake clock in tests).
func NewGCRA(now func() time.Time) *GCRA {
	g := &GCRA{now: now, seed: maphash.MakeSeed()}
	for i := range g.shards {
		g.shards[i].tat = make(map[string]time.Time)
	}
	return g
}

// Allow implements Limiter with redis_rate's allowN script for a cost of 1:
//
//	tat       = max(stored TAT or now, now)
//	new_tat   = tat + T                    (T = period / rate)
//	diff      = now - (new_tat - burst*T)
//	remaining = floor(diff / T)
//	if diff < 0: deny; retry after -diff, reset after tat - now
//	else: store new_tat; reset after new_tat - now
//
// Durations are integer nanoseconds here rather than the script's float
// seconds, so results can differ from Redis's by float rounding only.
func (g *GCRA) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	if err := limit.Validate(); err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	now := g.now()
	s := &g.shards[maphash.String(g.seed, key)%gcraShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)

	t := limit.emissionInterval()
	tat, ok := s.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(t)
	diff := now.Sub(newTAT.Add(-time.Duration(limit.Burst) * t))
	if diff < 0 {
		return Result{RetryAfter: -diff, ResetAfter: tat.Sub(now)}, nil
	}
	s.tat[key] = newTAT
	return Result{Allowed: true, Remaining: int(diff / t), ResetAfter: newTAT.Sub(now)}, nil
}

// sweep drops keys whose TAT has passed, at most once per sweepEvery.
func (s *gcraShard) sweep(now time.Time) {
	if now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	for k, tat := range s.tat {
		if !tat.After(now) {
			delete(s.tat, k)
		}
	}
}

// Len returns how many keys the limiter holds, so tests and metrics can
// see that idle keys are let go.
func (g *GCRA) Len() int {
	n := 0
	for i := range g.shards {
		s := &g.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}
