package domain

import (
	"strconv"
	"time"
)

// Defaults of RateLimitWatch.
const (
	// DefaultRateLimitSustain is how long a webhook must keep hitting its
	// rate limit before it is reported.
	DefaultRateLimitSustain = time.Minute
	// DefaultRateLimitGap ends a streak: a webhook not limited for this
	// long has caught up.
	DefaultRateLimitGap = 10 * time.Second
	// DefaultRateLimitPeriod is the least time between two reports of one
	// webhook.
	DefaultRateLimitPeriod = time.Hour
)

// RateLimitWatch decides when a webhook's rate limiting is worth a
// webhook.rate_limited event: only when it is sustained (limited again and
// again, never Gap apart, for at least Sustain), and at most once per
// Period per webhook. It is pure: the caller passes the time of each
// observation. Not safe for concurrent use.
type RateLimitWatch struct {
	Sustain, Gap, Period time.Duration

	webhooks  map[string]limitStreak
	lastSweep time.Time
}

type limitStreak struct {
	since, last, reported time.Time
}

// NewRateLimitWatch returns a watch with the defaults.
func NewRateLimitWatch() *RateLimitWatch {
	return &RateLimitWatch{Sustain: DefaultRateLimitSustain, Gap: DefaultRateLimitGap, Period: DefaultRateLimitPeriod}
}

// Limited records that webhook id waited on its rate limit at now. It
// reports whether to publish webhook.rate_limited now, and since when the
// webhook has been limited without a break.
func (w *RateLimitWatch) Limited(id string, now time.Time) (report bool, since time.Time) {
	if w.webhooks == nil {
		w.webhooks = map[string]limitStreak{}
	}
	w.sweep(now)
	s := w.webhooks[id]
	if s.since.IsZero() || now.Sub(s.last) > w.Gap {
		s.since = now
	}
	s.last = now
	report = now.Sub(s.since) >= w.Sustain && (s.reported.IsZero() || now.Sub(s.reported) >= w.Period)
	if report {
		s.reported = now
	}
	w.webhooks[id] = s
	return report, s.since
}

// sweep forgets, at most once a Gap, webhooks whose streak ended and whose
// last report is a Period old, so the watch holds only limited webhooks.
func (w *RateLimitWatch) sweep(now time.Time) {
	if now.Sub(w.lastSweep) < w.Gap {
		return
	}
	w.lastSweep = now
	for id, s := range w.webhooks {
		if now.Sub(s.last) > w.Gap && (s.reported.IsZero() || now.Sub(s.reported) >= w.Period) {
			delete(w.webhooks, id)
		}
	}
}

// Len is how many webhooks the watch holds.
func (w *RateLimitWatch) Len() int { return len(w.webhooks) }

// RateLimitKey names the report of webhook id at now: one per Period of
// the clock, so a report repeated after a restart (which forgets the
// watch) within the same period is the same message.
func (w *RateLimitWatch) RateLimitKey(id string, now time.Time) string {
	return id + ":" + strconv.FormatInt(now.UnixNano()/int64(w.Period), 10)
}
