package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestMetricsProjectionLag scrapes the real service once it is ready: the
// projection-lag gauges the README names are there, and read 0 for a
// caught-up read model.
func TestMetricsProjectionLag(t *testing.T) {
	m := MustRunMain(t, t.TempDir())
	client(m, m.DemoKey()).MustCreateWebhook(t, "lagging", "http://127.0.0.1:1/hooks/in")
	status, body := httpGet(t, "http://"+m.HTTP.Addr()+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{
		`webhookd_projection_lag_events{projection="readmodel"} 0`,
		`webhookd_projection_lag_seconds{projection="readmodel"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
