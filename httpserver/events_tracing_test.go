package httpserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/internal/tracing"
)

// TestPublishContinuesPublishersTrace: POST /v1/events, or publishEvents
// on /graphql, with a W3C traceparent header makes the publish span a
// child of the publisher's span; without one, or with a malformed one, the
// span starts a trace of its own.
func TestPublishContinuesPublishersTrace(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	srv := gqltest.NewServerWith(t, gqltest.Options{Env: testenv.Options{Tracer: tracing.New(tp)}})
	_, key := srv.Env.AccountKey(t, "platform", domain.ScopePublisher)

	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	type route struct{ path, body string }
	events := route{"/v1/events", `[{"account":"acme","type":"email.open","data":{}}]`}
	graphql := route{"/graphql", `{"query":"mutation { publishEvents(input: {events: [{account: \"acme\", type: \"email.open\", data: {}}]}) { results { messageId } } }"}`}
	for _, tc := range []struct {
		name, header string
		route        route
		continues    bool
	}{
		{"WithTraceparent", "00-" + traceID + "-" + spanID + "-01", events, true},
		{"Without", "", events, false},
		{"Malformed", "00-nonsense-01", events, false},
		{"GraphQLWithTraceparent", "00-" + traceID + "-" + spanID + "-01", graphql, true},
		{"GraphQLWithout", "", graphql, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exporter.Reset()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.route.path, strings.NewReader(tc.route.body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			if tc.header != "" {
				req.Header.Set("traceparent", tc.header)
			}
			resp, err := srv.HTTPClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST %s: %d", tc.route.path, resp.StatusCode)
			}
			spans := exporter.GetSpans()
			if len(spans) != 1 || spans[0].Name != "webhookd.publish" {
				t.Fatalf("spans %v, want one publish span", spans)
			}
			parent, span := spans[0].Parent, spans[0].SpanContext
			continues := parent.IsRemote() && parent.TraceID().String() == traceID && parent.SpanID().String() == spanID &&
				span.TraceID().String() == traceID
			if continues != tc.continues {
				t.Fatalf("publish span trace %s, parent %s/%s (remote %v); continues the publisher's trace = %v, want %v",
					span.TraceID(), parent.TraceID(), parent.SpanID(), parent.IsRemote(), continues, tc.continues)
			}
			if !tc.continues && parent.IsValid() {
				t.Fatalf("a publish span without a valid traceparent has parent %s", parent.SpanID())
			}
		})
	}
}
