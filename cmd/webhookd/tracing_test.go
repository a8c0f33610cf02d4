package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
)

// otlpSpan is what the test collector keeps of an exported span.
type otlpSpan struct{ name, traceID, spanID, parentID string }

// otlpCollector is a real OTLP/HTTP traces endpoint on loopback that
// decodes every export request.
type otlpCollector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []otlpSpan
}

func newOTLPCollector(t *testing.T) *otlpCollector {
	c := &otlpCollector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP traces export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					c.spans = append(c.spans, otlpSpan{s.Name, hex.EncodeToString(s.TraceId), hex.EncodeToString(s.SpanId), hex.EncodeToString(s.ParentSpanId)})
				}
			}
		}
	}))
	t.Cleanup(c.Close)
	return c
}

// TestServeExportsTraces runs webhookd serve with --otel-endpoint on a
// loopback collector: a published event's publish span and its attempt's
// span reach the collector in one trace, and the webhook that asked for
// it receives the attempt span's traceparent.
func TestServeExportsTraces(t *testing.T) {
	collector := newOTLPCollector(t)
	m := mustRunMainArgs(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--dev", "--shutdown-timeout", "5s",
		"--otel-endpoint", collector.URL)
	owner := client(m, m.DemoKey())
	recv := testenv.NewReceiver(t)
	hook, ue := owner.CreateWebhook(t, map[string]any{"name": "traced", "url": recv.URL + "/hooks/in", "eventTypes": []string{"email.bounce"}, "sendTraceparent": true})
	if hook == nil || len(ue) > 0 {
		t.Fatalf("createWebhook: %v", ue)
	}
	recv.PlaceFile(hook.Verification.FileName, hook.Verification.FileContent)
	var verified struct{ VerifyWebhook struct{ Verified bool } }
	owner.MustData(t, `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { verified } }`, map[string]any{"id": hook.ID}, &verified)
	if !verified.VerifyWebhook.Verified {
		t.Fatal("webhook not verified")
	}
	pub, err := m.Core.App.CreateAPIKey(t.Context(), "platform", domain.ScopePublisher, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.HTTP.Addr()+"/v1/events",
		strings.NewReader(`{"account":"demo","type":"email.bounce","data":{}}`+"\n"))
	req.Header.Set("Authorization", "Bearer "+pub.Secret)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("publish: %d", res.StatusCode)
	}
	header := recv.WaitFor(t, 1, 30*time.Second)[0].Header.Get("traceparent")
	if err := m.Close(); err != nil { // flushes the exporter
		t.Fatal(err)
	}
	collector.mu.Lock()
	defer collector.mu.Unlock()
	var publish, attempt otlpSpan
	for _, s := range collector.spans {
		switch s.name {
		case "webhookd.publish":
			publish = s
		case "webhookd.attempt":
			attempt = s
		}
	}
	if publish.spanID == "" || attempt.spanID == "" {
		t.Fatalf("collector got %v; want a publish and an attempt span", collector.spans)
	}
	if attempt.traceID != publish.traceID || attempt.parentID != publish.spanID {
		t.Errorf("attempt %+v is not a child of publish %+v", attempt, publish)
	}
	if want := fmt.Sprintf("00-%s-%s-01", attempt.traceID, attempt.spanID); header != want {
		t.Errorf("receiver got traceparent %q, want %q", header, want)
	}
}
