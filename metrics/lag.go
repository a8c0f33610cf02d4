package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/webhookd/webhookd/eventstore"
)

// LagCountLimit is how many unapplied events a scrape counts at most:
// webhookd_projection_lag_events reads "at least this many" at the limit.
// Counting reads the events, so the limit bounds what one scrape costs
// while a projection is far behind; when it is caught up a scrape reads
// nothing.
const LagCountLimit = 10_000

// lagScrapeTimeout bounds the store read behind one scrape.
const lagScrapeTimeout = 2 * time.Second

var (
	lagEventsDesc = prometheus.NewDesc("webhookd_projection_lag_events",
		"Events in the log that the projection has not applied yet (counted up to 10000).",
		[]string{"projection"}, nil)
	lagSecondsDesc = prometheus.NewDesc("webhookd_projection_lag_seconds",
		"Age of the oldest event in the log that the projection has not applied yet; 0 when caught up.",
		[]string{"projection"}, nil)
)

// ProjectionLag reports how far a projection is behind the log. It is read
// when scraped, from the projection's position and the store, rather than
// pushed on progress: a stuck projection makes no progress, and its lag is
// exactly what must keep growing then.
type ProjectionLag struct {
	Name     string
	Position func() eventstore.Position
	Store    eventstore.Store
	// Now is the clock the age is measured against; nil means time.Now.
	Now func() time.Time
}

// Describe implements prometheus.Collector.
func (l *ProjectionLag) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagEventsDesc
	ch <- lagSecondsDesc
}

// Collect implements prometheus.Collector. A failed store read reports
// nothing for this scrape, which alerting sees as absent data rather than
// as a projection that caught up.
func (l *ProjectionLag) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), lagScrapeTimeout)
	defer cancel()
	recs, err := l.Store.ReadAll(ctx, l.Position(), LagCountLimit)
	if err != nil {
		return
	}
	age := 0.0
	if len(recs) > 0 {
		now := time.Now
		if l.Now != nil {
			now = l.Now
		}
		age = max(0, now().Sub(recs[0].Time).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(len(recs)), l.Name)
	ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, age, l.Name)
}

// WatchProjectionLag registers the lag gauges of projection name, whose
// applied position position reports, behind store.
func (m *Metrics) WatchProjectionLag(name string, position func() eventstore.Position, store eventstore.Store) {
	m.Registry.MustRegister(&ProjectionLag{Name: name, Position: position, Store: store})
}
