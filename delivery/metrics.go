package delivery

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd/domain"
)

// maxWebhookLabels caps how many webhooks get their own metric series;
// the rest share the label "other", so a large tenant base cannot blow up
// the metrics' cardinality. Webhooks are labelled by ID, never by URL.
const maxWebhookLabels = 100

// Metrics are the dispatcher's Prometheus collectors. A nil *Metrics is
// valid and records nothing, which keeps tests free of registries.
type Metrics struct {
	attempts   *prometheus.CounterVec
	latency    prometheus.Histogram
	rateLimits *prometheus.CounterVec
	inFlight   prometheus.GaugeFunc
	mu         sync.Mutex
	labelled   map[string]bool
}

// NewMetrics registers the dispatcher's collectors with r. inFlight reports
// the attempts in flight when scraped.
func NewMetrics(r prometheus.Registerer, inFlight func() float64) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_delivery_attempts_total", Help: "Delivery attempts by webhook, outcome (succeeded, retry, failed) and status class.",
		}, []string{"webhook", "outcome", "status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "webhookd_delivery_attempt_seconds", Help: "Latency of delivery attempts, from sending to the end of the response excerpt.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
		}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_delivery_rate_limited_total", Help: "Times a webhook's lane waited for its rate limit.",
		}, []string{"webhook"}),
		labelled: map[string]bool{},
	}
	m.inFlight = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "webhookd_delivery_in_flight", Help: "Delivery attempts in flight.",
	}, inFlight)
	r.MustRegister(m.attempts, m.latency, m.rateLimits, m.inFlight)
	return m
}

func (m *Metrics) webhookLabel(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.labelled[id] {
		return id
	}
	if len(m.labelled) < maxWebhookLabels {
		m.labelled[id] = true
		return id
	}
	return "other"
}

func (m *Metrics) attempted(webhookID string, result domain.RetryResult, res Result) {
	if m == nil {
		return
	}
	status := res.Outcome.ErrClass
	if res.Outcome.StatusCode != 0 {
		status = strconv.Itoa(res.Outcome.StatusCode/100) + "xx"
	}
	m.attempts.WithLabelValues(m.webhookLabel(webhookID), string(result), status).Inc()
	m.latency.Observe(res.Latency.Seconds())
}

func (m *Metrics) rateLimited(webhookID string) {
	if m == nil {
		return
	}
	m.rateLimits.WithLabelValues(m.webhookLabel(webhookID)).Inc()
}
