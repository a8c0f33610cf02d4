// Package metrics owns webhookd's Prometheus registry and the collectors the
// other packages report to. One registry per process instance (rather than
// the global default) keeps tests that start several servers independent.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is the set of webhookd's collectors.
type Metrics struct {
	Registry *prometheus.Registry

	// EventsAppended counts events appended to the store, by category.
	EventsAppended *prometheus.CounterVec
	// ProjectionPosition is the log position each projection has applied.
	ProjectionPosition *prometheus.GaugeVec
	// HTTPRequests counts HTTP requests by route and status class.
	HTTPRequests *prometheus.CounterVec
	// TaskUp is 1 while a background task runs and 0 while it is down
	// (failed and waiting to be restarted), so an alert can fire before
	// the process gives up.
	TaskUp *prometheus.GaugeVec
	// TaskRestarts counts in-process restarts of background tasks.
	TaskRestarts *prometheus.CounterVec
}

// New returns a registry with Go runtime and process collectors plus
// webhookd's own.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		EventsAppended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_events_appended_total", Help: "Events appended to the event store, by stream category.",
		}, []string{"category"}),
		ProjectionPosition: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "webhookd_projection_position", Help: "The last event-log position each projection has applied.",
		}, []string{"projection"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_http_requests_total", Help: "HTTP requests served, by route and status class.",
		}, []string{"route", "code"}),
		TaskUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "webhookd_background_task_up", Help: "1 while a background task is running, 0 while it has failed and waits to be restarted.",
		}, []string{"task"}),
		TaskRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webhookd_background_task_restarts_total", Help: "In-process restarts of background tasks after a failure.",
		}, []string{"task"}),
	}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.EventsAppended, m.ProjectionPosition, m.HTTPRequests, m.TaskUp, m.TaskRestarts,
	)
	return m
}
