package domain_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
)

var retryNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRetryDecide(t *testing.T) {
	p := domain.DefaultRetryPolicy()
	const mid = 0.5 // no jitter: factor 1
	status := func(c int) domain.AttemptOutcome { return domain.AttemptOutcome{StatusCode: c} }
	errc := func(c string) domain.AttemptOutcome { return domain.AttemptOutcome{ErrClass: c} }
	withRA := func(c int, ra time.Duration) domain.AttemptOutcome {
		return domain.AttemptOutcome{StatusCode: c, RetryAfter: ra}
	}
	cases := []struct {
		name    string
		attempt int
		out     domain.AttemptOutcome
		result  domain.RetryResult
		delay   time.Duration // after retryNow, for ResultRetry
		slow    bool
	}{
		{"200", 1, status(200), domain.ResultSucceeded, 0, false},
		{"204", 3, status(204), domain.ResultSucceeded, 0, false},
		{"299", 1, status(299), domain.ResultSucceeded, 0, false},
		{"2xxOnLastAttempt", 10, status(202), domain.ResultSucceeded, 0, false},
		{"301", 1, status(301), domain.ResultRetry, 5 * time.Second, false},
		{"302", 2, status(302), domain.ResultRetry, 5 * time.Minute, false},
		{"400", 1, status(400), domain.ResultRetry, 5 * time.Second, false},
		{"401", 3, status(401), domain.ResultRetry, 30 * time.Minute, false},
		{"404", 4, status(404), domain.ResultRetry, 2 * time.Hour, false},
		{"410", 1, status(410), domain.ResultDisableWebhook, 0, false},
		{"410OnLastAttempt", 10, status(410), domain.ResultDisableWebhook, 0, false},
		{"429NoRetryAfter", 1, status(429), domain.ResultRetry, 5 * time.Second, true},
		{"429RetryAfterLonger", 1, withRA(429, 2*time.Minute), domain.ResultRetry, 2 * time.Minute, true},
		{"429RetryAfterShorter", 3, withRA(429, 2*time.Minute), domain.ResultRetry, 30 * time.Minute, true},
		{"429RetryAfterTiny", 1, withRA(429, 100*time.Millisecond), domain.ResultRetry, 5 * time.Second, true},
		{"429RetryAfterCapped", 1, withRA(429, 48*time.Hour), domain.ResultRetry, time.Hour, true},
		{"429RetryAfterCappedBelowSchedule", 6, withRA(429, 48*time.Hour), domain.ResultRetry, 10 * time.Hour, true},
		{"500", 1, status(500), domain.ResultRetry, 5 * time.Second, false},
		{"500IgnoresRetryAfter", 1, withRA(500, time.Hour), domain.ResultRetry, 5 * time.Second, false},
		{"502", 2, status(502), domain.ResultRetry, 5 * time.Minute, true},
		{"503RetryAfter", 1, withRA(503, 30*time.Second), domain.ResultRetry, 30 * time.Second, true},
		{"504", 9, status(504), domain.ResultRetry, 24 * time.Hour, true},
		{"Timeout", 1, errc(domain.ErrClassTimeout), domain.ResultRetry, 5 * time.Second, false},
		{"ConnectionRefused", 5, errc(domain.ErrClassConnectionRefused), domain.ResultRetry, 5 * time.Hour, false},
		{"DNS", 7, errc(domain.ErrClassDNS), domain.ResultRetry, 14 * time.Hour, false},
		{"TLS", 8, errc(domain.ErrClassTLS), domain.ResultRetry, 20 * time.Hour, false},
		{"Other", 1, errc(domain.ErrClassOther), domain.ResultRetry, 5 * time.Second, false},
		{"NoStatusNoError", 1, domain.AttemptOutcome{}, domain.ResultRetry, 5 * time.Second, false},
		{"ExhaustedOn500", 10, status(500), domain.ResultFailed, 0, false},
		{"ExhaustedOnTimeout", 10, errc(domain.ErrClassTimeout), domain.ResultFailed, 0, false},
		{"ExhaustedOn429", 10, withRA(429, time.Minute), domain.ResultFailed, 0, true},
		{"ExhaustedOn404", 10, status(404), domain.ResultFailed, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := p.Decide(c.attempt, c.out, retryNow, mid)
			if d.Result != c.result || d.SlowDown != c.slow {
				t.Fatalf("Decide = %+v, want result %s slow %v", d, c.result, c.slow)
			}
			if d.Reason == "" {
				t.Error("empty reason")
			}
			var want time.Time
			if c.result == domain.ResultRetry {
				want = retryNow.Add(c.delay)
			}
			if !d.NextAt.Equal(want) {
				t.Fatalf("NextAt = %v (+%v), want +%v", d.NextAt, d.NextAt.Sub(retryNow), c.delay)
			}
		})
	}
}

func TestRetryScheduleTotal(t *testing.T) {
	p := domain.DefaultRetryPolicy()
	if p.MaxAttempts() != 10 {
		t.Fatalf("MaxAttempts = %d, want 10", p.MaxAttempts())
	}
	// Walk a delivery that always times out through the whole schedule.
	at, attempts := retryNow, 0
	for {
		attempts++
		d := p.Decide(attempts, domain.AttemptOutcome{ErrClass: domain.ErrClassTimeout}, at, 0.5)
		if d.Result == domain.ResultFailed {
			break
		}
		if d.Result != domain.ResultRetry || !d.NextAt.After(at) {
			t.Fatalf("attempt %d: %+v", attempts, d)
		}
		at = d.NextAt
	}
	span := at.Sub(retryNow)
	if attempts != 10 || span < 3*24*time.Hour || span > 4*24*time.Hour {
		t.Fatalf("%d attempts over %v, want 10 over about three days", attempts, span)
	}
}

func TestRetryJitter(t *testing.T) {
	p := domain.DefaultRetryPolicy()
	for n, base := range domain.DefaultRetrySchedule {
		t.Run(fmt.Sprint(base), func(t *testing.T) {
			lo, _ := p.Delay(n, 0)
			hi, _ := p.Delay(n, 0.999999)
			mid, _ := p.Delay(n, 0.5)
			if lo != time.Duration(float64(base)*0.8) {
				t.Errorf("rand 0: %v, want 80%% of %v", lo, base)
			}
			if hi > time.Duration(float64(base)*1.2) || hi < time.Duration(float64(base)*1.1999) {
				t.Errorf("rand ~1: %v, want just under 120%% of %v", hi, base)
			}
			if mid != base {
				t.Errorf("rand 0.5: %v, want %v", mid, base)
			}
		})
	}
	t.Run("OutOfRangeRandClamped", func(t *testing.T) {
		if d, _ := p.Delay(1, -3); d != 4*time.Second {
			t.Errorf("rand -3: %v", d)
		}
		if d, _ := p.Delay(1, 7); d != 6*time.Second {
			t.Errorf("rand 7: %v", d)
		}
	})
	t.Run("BeyondSchedule", func(t *testing.T) {
		if _, ok := p.Delay(10, 0.5); ok {
			t.Error("delay past the schedule")
		}
	})
	t.Run("ZeroPolicyIsDefault", func(t *testing.T) {
		d := domain.RetryPolicy{}.Decide(1, domain.AttemptOutcome{StatusCode: 500}, retryNow, 0)
		if want := retryNow.Add(4 * time.Second); !d.NextAt.Equal(want) {
			t.Errorf("zero policy NextAt %v, want %v", d.NextAt, want)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{"0", 0, true},
		{"99999999999999999999999", (1 << 31) * time.Second, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second, true},
		{"Sunday, 01-Mar-26 12:00:10 GMT", 10 * time.Second, true},
		{"Sun Mar  1 12:00:05 2026", 5 * time.Second, true},
		{"Sun, 01 Mar 2026 11:00:00 GMT", 0, true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, ok := domain.ParseRetryAfter(c.in, now)
			if got != c.want || ok != c.ok {
				t.Fatalf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestShouldDisableForFailures(t *testing.T) {
	day := 24 * time.Hour
	cases := []struct {
		name      string
		since     time.Time
		now       time.Time
		threshold time.Duration
		want      bool
	}{
		{"NotFailing", time.Time{}, retryNow, 0, false},
		{"FourDays", retryNow.Add(-4 * day), retryNow, 0, false},
		{"JustUnderFive", retryNow.Add(-5*day + time.Second), retryNow, 0, false},
		{"FiveDays", retryNow.Add(-5 * day), retryNow, 0, true},
		{"SixDays", retryNow.Add(-6 * day), retryNow, 0, true},
		{"CustomThreshold", retryNow.Add(-2 * day), retryNow, day, true},
		{"CustomThresholdNotYet", retryNow.Add(-2 * day), retryNow, 3 * day, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := domain.ShouldDisableForFailures(c.since, c.now, c.threshold); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
