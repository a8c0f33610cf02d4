package ownership

import "github.com/prometheus/client_golang/prometheus"

// metrics are the manager's Prometheus collectors; a nil *metrics records
// nothing.
type metrics struct {
	stopped prometheus.Gauge
}

// RegisterMetrics registers the manager's collectors with r: the
// partitions owned, the members counted, and whether dispatch is stopped
// (webhookd_dispatch_stopped is 1 while it is, and the log says why).
func (m *Manager) RegisterMetrics(r prometheus.Registerer) {
	m.init()
	m.metrics = &metrics{stopped: prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "webhookd_dispatch_stopped", Help: "1 while this instance starts no attempts: its projections are not following the log, or its lease store is unreachable (the log says which).",
	})}
	r.MustRegister(m.metrics.stopped,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "webhookd_partitions_owned", Help: "Partitions whose lease this instance holds; it dispatches only their webhooks.",
		}, func() float64 { return float64(m.Owned()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "webhookd_cluster_members", Help: "Dispatching instances this one counts (itself included) when sharing the partitions.",
		}, func() float64 { return float64(m.Members()) }),
	)
}

func (mt *metrics) blocked(_, reason string) {
	if mt == nil {
		return
	}
	if reason != "" {
		mt.stopped.Set(1)
	} else {
		mt.stopped.Set(0)
	}
}
