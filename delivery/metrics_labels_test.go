package delivery

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections/due"
)

// TestAttemptLabelsCapped records attempts to three times as many webhooks
// as get their own series: the attempt counter keeps maxWebhookLabels
// webhook labels plus "other", however many webhooks there are, and no
// attempt is lost from the totals.
func TestAttemptLabelsCapped(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, func() float64 { return 0 }, func() (map[string]due.DueCount, error) { return nil, nil })
	const hooks = 3 * maxWebhookLabels
	for i := range hooks {
		id := fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		m.attempted(id, domain.ResultSucceeded, Result{Outcome: domain.AttemptOutcome{StatusCode: 200}, Latency: time.Millisecond})
		m.rateLimited(id)
	}
	if n := testutil.CollectAndCount(m.attempts); n != maxWebhookLabels+1 {
		t.Errorf("attempts: %d series for %d webhooks, want %d", n, hooks, maxWebhookLabels+1)
	}
	if n := testutil.CollectAndCount(m.rateLimits); n != maxWebhookLabels+1 {
		t.Errorf("rate limits: %d series, want %d", n, maxWebhookLabels+1)
	}
	if got := testutil.ToFloat64(m.attempts.WithLabelValues("other", string(domain.ResultSucceeded), "2xx")); got != hooks-maxWebhookLabels {
		t.Errorf("other = %v attempts, want %d", got, hooks-maxWebhookLabels)
	}
}
