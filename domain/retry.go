package domain

import (
	"fmt"
	"net/http"
	"time"
)

// Error classes of an attempt that got no HTTP response. They are stable
// strings because they are stored in delivery.attempted events and shown in
// the UI.
const (
	ErrClassNone              = ""
	ErrClassTimeout           = "timeout"
	ErrClassConnectionRefused = "connection_refused"
	ErrClassDNS               = "dns"
	ErrClassTLS               = "tls"
	ErrClassOther             = "other"
)

// AttemptOutcome is what one HTTP attempt produced, reduced to what the
// retry rules need. Either StatusCode is set (a response arrived) or
// ErrClass is (none did).
type AttemptOutcome struct {
	StatusCode int
	ErrClass   string
	// RetryAfter is the response's Retry-After header, already parsed by
	// the caller with ParseRetryAfter; zero when absent.
	RetryAfter time.Duration
}

// RetryResult is what happens to a delivery after an attempt.
type RetryResult string

// Retry results.
const (
	ResultSucceeded      RetryResult = "succeeded"       // 2xx: done
	ResultRetry          RetryResult = "retry"           // try again at NextAt
	ResultFailed         RetryResult = "failed"          // schedule exhausted: give up
	ResultDisableWebhook RetryResult = "disable_webhook" // 410 Gone: give up and disable the webhook
)

// RetryDecision is the verdict on one attempt.
type RetryDecision struct {
	Result RetryResult
	// NextAt is when to attempt again; set only for ResultRetry.
	NextAt time.Time
	// SlowDown asks the dispatcher to ease off the whole webhook: the
	// endpoint said it is overloaded (429, 502, 503, 504).
	SlowDown bool
	// Reason says why, for people: "HTTP 503", "timeout", ...
	Reason string
}

// DefaultRetrySchedule is the delay before each attempt: the first is
// immediate, then 5 s, 5 m, 30 m, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h,
// ten attempts over about three days.
var DefaultRetrySchedule = []time.Duration{
	0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// RetryPolicy holds the retry rules; each webhook may carry its own. The
// zero value means DefaultRetryPolicy.
type RetryPolicy struct {
	// Schedule[n] is the delay before attempt n+1, counted from the failure
	// of attempt n; Schedule[0] (the first attempt) is counted from
	// scheduling. Its length is the number of attempts.
	Schedule []time.Duration
	// Jitter spreads each delay uniformly by ±Jitter (0.2 = ±20%) so that
	// deliveries failing together do not retry together.
	Jitter float64
	// MinRetryAfter and MaxRetryAfter bound a Retry-After header, so a
	// receiver can neither hammer us (0 s) nor park a delivery for a week.
	MinRetryAfter, MaxRetryAfter time.Duration
}

// DefaultRetryPolicy returns the design's defaults: DefaultRetrySchedule,
// ±20% jitter, and Retry-After honoured within [1 s, 1 h].
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Schedule: DefaultRetrySchedule, Jitter: 0.2, MinRetryAfter: time.Second, MaxRetryAfter: time.Hour}
}

func (p RetryPolicy) orDefault() RetryPolicy {
	if len(p.Schedule) == 0 {
		return DefaultRetryPolicy()
	}
	return p
}

// MaxAttempts is the number of attempts the schedule allows.
func (p RetryPolicy) MaxAttempts() int { return len(p.orDefault().Schedule) }

// Delay returns the jittered delay before attempt n+1 (n ≥ 0 attempts
// made), and false when the schedule has no such attempt. rnd is a random
// value in [0,1) supplied by the caller, so the function stays pure:
// rnd 0 gives the delay -Jitter, rnd near 1 gives it +Jitter.
func (p RetryPolicy) Delay(n int, rnd float64) (time.Duration, bool) {
	p = p.orDefault()
	if n < 0 || n >= len(p.Schedule) {
		return 0, false
	}
	rnd = min(max(rnd, 0), 1)
	factor := 1 + p.Jitter*(2*rnd-1)
	return time.Duration(float64(p.Schedule[n]) * factor), true
}

// Decide classifies attempt number attempt (1-based, counted since the
// delivery was scheduled or last redelivered) that ended at now.
//
//   - 2xx succeeds.
//   - 410 Gone gives up at once and disables the webhook: the receiver said
//     the endpoint is gone for good.
//   - 429, 502, 503 and 504 retry with SlowDown, and not before Retry-After
//     (bounded to [MinRetryAfter, MaxRetryAfter]) when it is given.
//   - Every other response retries on the schedule: 3xx (redirects are
//     never followed, so a redirect is a misconfigured URL the owner may
//     fix), other 4xx (a 400/401/404 is as often a receiver's deploy bug as
//     a permanent refusal, and the schedule is what gives its owner time to
//     fix it before the delivery is lost), and 5xx.
//   - No response (timeout, refused connection, DNS, TLS, other) retries.
//
// Whatever the class, once the schedule is exhausted the delivery fails,
// except for success and 410.
func (p RetryPolicy) Decide(attempt int, o AttemptOutcome, now time.Time, rnd float64) RetryDecision {
	p = p.orDefault()
	reason, slow := describeOutcome(o)
	switch {
	case o.ErrClass == ErrClassNone && o.StatusCode >= 200 && o.StatusCode < 300:
		return RetryDecision{Result: ResultSucceeded, Reason: reason}
	case o.ErrClass == ErrClassNone && o.StatusCode == http.StatusGone:
		return RetryDecision{Result: ResultDisableWebhook, Reason: reason}
	}
	delay, ok := p.Delay(attempt, rnd)
	if !ok {
		return RetryDecision{Result: ResultFailed, SlowDown: slow,
			Reason: fmt.Sprintf("%s; gave up after %d attempts", reason, attempt)}
	}
	if slow && o.RetryAfter > 0 {
		delay = max(delay, min(max(o.RetryAfter, p.MinRetryAfter), p.MaxRetryAfter))
	}
	return RetryDecision{Result: ResultRetry, NextAt: now.Add(delay), SlowDown: slow, Reason: reason}
}

// describeOutcome names an outcome for people and tells whether it asks
// us to slow down.
func describeOutcome(o AttemptOutcome) (reason string, slowDown bool) {
	if o.ErrClass != ErrClassNone {
		return o.ErrClass, false
	}
	switch c := o.StatusCode; {
	case c == 0:
		return ErrClassOther, false
	case c == http.StatusTooManyRequests, c == http.StatusBadGateway,
		c == http.StatusServiceUnavailable, c == http.StatusGatewayTimeout:
		return fmt.Sprintf("HTTP %d", c), true
	case c >= 300 && c < 400:
		return fmt.Sprintf("HTTP %d (redirects are not followed)", c), false
	case c == http.StatusGone:
		return "HTTP 410 Gone: the endpoint asked for no more deliveries", false
	default:
		return fmt.Sprintf("HTTP %d", c), false
	}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date, relative to now. A date in the past means zero. It reports false
// for an absent or unreadable header, which the caller treats as absent.
func ParseRetryAfter(header string, now time.Time) (time.Duration, bool) {
	if header == "" {
		return 0, false
	}
	if secs, ok := parseDelaySeconds(header); ok {
		return secs, true
	}
	t, err := http.ParseTime(header)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// parseDelaySeconds parses a non-negative decimal, saturating instead of
// overflowing, since any value beyond MaxRetryAfter is capped anyway.
func parseDelaySeconds(s string) (time.Duration, bool) {
	const ceiling = 1 << 31 // seconds; ~68 years
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < ceiling {
			n = n*10 + int64(c-'0')
		}
	}
	return time.Duration(min(n, ceiling)) * time.Second, true
}

// DefaultDisableAfter is how long every delivery to a webhook may keep
// failing before the webhook is disabled.
const DefaultDisableAfter = 5 * 24 * time.Hour

// ShouldDisableForFailures reports whether a webhook whose deliveries have
// all failed since firstFailingSince (its first failed attempt after its
// last success; zero when it is not failing) has failed long enough to be
// disabled at now. threshold ≤ 0 means DefaultDisableAfter.
func ShouldDisableForFailures(firstFailingSince, now time.Time, threshold time.Duration) bool {
	if firstFailingSince.IsZero() {
		return false
	}
	if threshold <= 0 {
		threshold = DefaultDisableAfter
	}
	return now.Sub(firstFailingSince) >= threshold
}
