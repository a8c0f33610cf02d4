package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestOffAllocatesNothing: with no --otel-endpoint the tracer is nil, and
// the calls on the publish and attempt paths return without allocating.
func TestOffAllocatesNothing(t *testing.T) {
	var tr *Tracer
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		span, tp := tr.StartPublish(ctx, "acme", "email.open")
		EndPublish(span, "msg", false, nil)
		_, a := tr.StartAttempt(ctx, Attempt{WebhookID: "wh", DeliveryID: "dlv", Parent: tp})
		EndAttempt(a, 200, time.Millisecond, "")
	})
	if allocs != 0 {
		t.Fatalf("tracing off allocates %v times per publish and attempt; want 0", allocs)
	}
	if tr.Enabled() {
		t.Fatal("a nil tracer is enabled")
	}
}

// TestTraceparentRoundTrip: the stored form of the publish span's context
// reads back as that context, and what is not a traceparent reads as none.
func TestTraceparentRoundTrip(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	span, tp := tr.StartPublish(context.Background(), "acme", "email.open")
	EndPublish(span, "msg", false, nil)
	if got := ParseTraceparent(tp); !got.IsValid() || got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("traceparent %q reads as %v; want %v", tp, got, span.SpanContext())
	}
	for _, bad := range []string{"", "nonsense", "00-00000000000000000000000000000000-0000000000000000-01"} {
		if ParseTraceparent(bad).IsValid() {
			t.Errorf("%q reads as a valid span context", bad)
		}
	}
	if len(exp.GetSpans()) != 1 {
		t.Fatalf("exported %d spans, want 1", len(exp.GetSpans()))
	}
}

// TestSetupOff: an empty endpoint is tracing off, with a shutdown that
// does nothing.
func TestSetupOff(t *testing.T) {
	tr, stop, err := Setup(context.Background(), "", "test")
	if err != nil || tr != nil || stop(context.Background()) != nil {
		t.Fatalf("Setup(\"\") = %v, %v; want a nil tracer", tr, err)
	}
}

// TestSetupExportsOverOTLPHTTP: with an endpoint, spans reach it as
// OTLP/HTTP protobuf POSTs to /v1/traces; shutdown flushes the batch.
func TestSetupExportsOverOTLPHTTP(t *testing.T) {
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type")
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	for name, endpoint := range map[string]string{"URL": srv.URL, "HostPort": strings.TrimPrefix(srv.URL, "http://")} {
		t.Run(name, func(t *testing.T) {
			tr, stop, err := Setup(context.Background(), endpoint, "test")
			if err != nil {
				t.Fatal(err)
			}
			span, _ := tr.StartPublish(context.Background(), "acme", "email.open")
			EndPublish(span, "msg", false, nil)
			if err := stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			select {
			case req := <-got:
				if req != "POST /v1/traces application/x-protobuf" {
					t.Fatalf("exporter sent %q", req)
				}
			default:
				t.Fatal("shutdown returned without exporting the span")
			}
		})
	}
}

// TestSetupRefusesBadEndpoint: serve fails at start on an endpoint that
// is neither an http(s) URL nor host:port, rather than tracing nowhere.
func TestSetupRefusesBadEndpoint(t *testing.T) {
	for _, bad := range []string{"ftp://collector:4318", "http://"} {
		if _, _, err := Setup(context.Background(), bad, "test"); err == nil {
			t.Errorf("Setup(%q) accepted it", bad)
		}
	}
}
