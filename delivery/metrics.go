package delivery

import (
	"cmp"
	"slices"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections/due"
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
	paused     prometheus.Gauge
	mu         sync.Mutex
	labelled   map[string]bool
}

// NewMetrics registers the dispatcher's collectors with r. inFlight reports
// the attempts in flight when scraped; owed reads the due index's counts.
func NewMetrics(r prometheus.Registerer, inFlight func() float64, owed func() (map[string]due.DueCount, error)) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_delivery_attempts_total", Help: "Delivery attempts by webhook, outcome (succeeded, retry, failed) and status class. The first 100 webhooks seen get their own series; the rest share webhook=\"other\".",
		}, []string{"webhook", "outcome", "status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "webhookd_delivery_attempt_seconds", Help: "Latency of delivery attempts, from sending to the end of the response excerpt.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
		}),
		rateLimits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_delivery_rate_limited_total", Help: "Times a webhook's lane waited for its rate limit.",
		}, []string{"webhook"}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "webhookd_delivery_store_paused", Help: "1 while dispatch is paused because the event store refuses to record attempts (a full disk, a lost connection), else 0.",
		}),
		labelled: map[string]bool{},
	}
	m.inFlight = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "webhookd_delivery_in_flight", Help: "Delivery attempts in flight.",
	}, inFlight)
	r.MustRegister(m.attempts, m.latency, m.rateLimits, m.inFlight, m.paused, owedCollector{read: owed})
	return m
}

var owedDesc = prometheus.NewDesc("webhookd_deliveries_owed",
	"Attempts owed per webhook: kind=first for deliveries never attempted (the queue), kind=retry for pending retries. The largest webhooks get their own series; the rest are summed as webhook=\"other\".",
	[]string{"webhook", "kind"}, nil)

// owedCollector reports queue depth and pending retries from the due
// index's counters when scraped.
type owedCollector struct {
	read func() (map[string]due.DueCount, error)
}

func (c owedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- owedDesc }

func (c owedCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.read()
	if err != nil {
		return
	}
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Compare(counts[b].Pending+counts[b].Retries, counts[a].Pending+counts[a].Retries)
	})
	var other due.DueCount
	for i, id := range ids {
		if i >= maxWebhookLabels {
			other.Pending += counts[id].Pending
			other.Retries += counts[id].Retries
			continue
		}
		ch <- prometheus.MustNewConstMetric(owedDesc, prometheus.GaugeValue, float64(counts[id].Pending), id, "first")
		ch <- prometheus.MustNewConstMetric(owedDesc, prometheus.GaugeValue, float64(counts[id].Retries), id, "retry")
	}
	if len(ids) > maxWebhookLabels {
		ch <- prometheus.MustNewConstMetric(owedDesc, prometheus.GaugeValue, float64(other.Pending), "other", "first")
		ch <- prometheus.MustNewConstMetric(owedDesc, prometheus.GaugeValue, float64(other.Retries), "other", "retry")
	}
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

func (m *Metrics) storePaused(paused bool) {
	if m == nil {
		return
	}
	v := 0.0
	if paused {
		v = 1
	}
	m.paused.Set(v)
}
