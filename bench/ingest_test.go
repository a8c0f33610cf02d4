package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/metrics"
)

// BenchmarkIngest measures publishing alone: BENCH_INGEST_EVENTS events
// (100,000 by default) POSTed to /v1/events on the production HTTP server
// and handler chain, over a durable core with no webhooks, so nothing is
// delivered. batch-1 is one event per request from 64 clients; batch-1000
// is NDJSON bodies of 1,000 events from 4 clients. The clients run in the
// same process, so CPU per event includes them.
func BenchmarkIngest(b *testing.B) {
	b.Run("batch-1", func(b *testing.B) { benchIngest(b, 1, 64) })
	b.Run("batch-1000", func(b *testing.B) { benchIngest(b, 1000, 4) })
}

func benchIngest(b *testing.B, batch, clients int) {
	n := envInt("BENCH_INGEST_EVENTS", 100_000) / batch * batch
	r := newRig(b, 1, 0)
	_, key := r.env.AccountKey(b, "platform", domain.ScopePublisher)
	hs := httpserver.New(slog.New(slog.DiscardHandler), metrics.New())
	hs.Handle("POST /v1/events", httpserver.EventsHandler(r.env.App))
	if err := hs.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	go func() { _ = hs.Serve() }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
	})
	url := "http://" + hs.Addr() + "/v1/events"
	var body bytes.Buffer
	for range batch {
		fmt.Fprintf(&body, `{"account":%q,"type":%q,"data":%s}`+"\n", account, r.types[0], eventData)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	m := newMeter(b)
	var left atomic.Int64
	left.Store(int64(n / batch))
	var wg sync.WaitGroup
	b.ResetTimer()
	u0 := m.sample()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := postBatch(client, url, key, body.Bytes()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	use := m.since(u0)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	use.report(b, n, "event")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d events in requests of %d from %d clients: %.0f events/s, %.1f µs CPU per event", n, batch, clients,
		float64(n)/elapsed.Seconds(), use.cpuUS/float64(n))
}

// postBatch POSTs one NDJSON body and fails unless every event was
// accepted.
func postBatch(client *http.Client, url, key string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"rejected"`)) {
		return fmt.Errorf("POST /v1/events: %d %s", resp.StatusCode, out)
	}
	return nil
}
