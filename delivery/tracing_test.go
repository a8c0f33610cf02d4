package delivery_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/internal/tracing"
)

// TestTraceOfMessage publishes one message to two webhooks through the
// real core with tracing on (the SDK's in-memory exporter) and checks the
// one trace it makes: the publish span, whose context the message stores
// in the log, and a span per attempt (a failed one, then its retry), each
// a child of the publish span and linked to it, carrying status, error
// class and webhook id and never the secret or the body. Only the webhook
// that asked for it receives the traceparent header, naming its attempt.
func TestTraceOfMessage(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	env := testenv.NewWith(t, testenv.Options{Tracer: tracing.New(tp)})
	recvTraced, recvPlain := testenv.NewReceiver(t), testenv.NewReceiver(t)
	ctx := context.Background()
	p, _ := env.AccountKey(t, "acme", domain.ScopeAccount)
	retry := &domain.RetrySettings{Schedule: domain.RetryScheduleCustom, DelaysSeconds: []int{1}}
	on, off := true, false
	traced := env.VerifiedWebhook(t, p, recvTraced, "/in", "email.open")
	plain := env.VerifiedWebhook(t, p, recvPlain, "/in", "email.open")
	for _, h := range []struct {
		id   string
		send *bool
	}{{traced.ID, &on}, {plain.ID, &off}} {
		if _, err := env.App.UpdateWebhook(ctx, p, h.id, nil, domain.UpdateWebhook{Retry: retry, SendTraceparent: h.send}); err != nil {
			t.Fatal(err)
		}
	}
	secret := traced.Secret
	recvTraced.Respond(http.StatusInternalServerError, 0)
	recvPlain.Respond(http.StatusInternalServerError, 0)
	env.StartDispatcher(t)
	res := publish(t, env, app.PublishInput{Account: "acme", Type: "email.open", Data: json.RawMessage(`{"marker":"body-marker-123"}`)})
	recvTraced.WaitFor(t, 1, 10*time.Second)
	recvPlain.WaitFor(t, 1, 10*time.Second)
	recvTraced.Respond(http.StatusOK, 0)
	recvPlain.Respond(http.StatusOK, 0)
	gotTraced := recvTraced.WaitFor(t, 2, 10*time.Second)
	gotPlain := recvPlain.WaitFor(t, 2, 10*time.Second)

	var spans tracetest.SpanStubs
	waitFor(t, func() bool { spans = exporter.GetSpans(); return len(spans) >= 5 })
	var publishSpan tracetest.SpanStub
	var attempts []tracetest.SpanStub
	for _, s := range spans {
		switch s.Name {
		case "webhookd.publish":
			publishSpan = s
		case "webhookd.attempt":
			attempts = append(attempts, s)
		}
	}
	if !publishSpan.SpanContext.IsValid() || len(attempts) != 4 {
		t.Fatalf("spans %v: want one publish span and four attempt spans", names(spans))
	}
	t.Run("MessageStoresPublishContext", func(t *testing.T) {
		recs, err := env.Store.ReadStream(ctx, domain.MessageStream(res[0].MessageID), 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := env.Codec.Decode(recs[0])
		if err != nil {
			t.Fatal(err)
		}
		stored := tracing.ParseTraceparent(ev.(domain.MessagePublished).Traceparent)
		if !stored.Equal(publishSpan.SpanContext.WithRemote(true)) {
			t.Fatalf("stored traceparent %v, publish span %v", stored, publishSpan.SpanContext)
		}
	})
	t.Run("AttemptsJoinTheTrace", func(t *testing.T) {
		statuses := map[string][]string{}
		for _, a := range attempts {
			if a.SpanContext.TraceID() != publishSpan.SpanContext.TraceID() || a.Parent.SpanID() != publishSpan.SpanContext.SpanID() {
				t.Errorf("attempt span %v has parent %v; want the publish span %v", a.SpanContext, a.Parent, publishSpan.SpanContext)
			}
			if len(a.Links) != 1 || a.Links[0].SpanContext.SpanID() != publishSpan.SpanContext.SpanID() {
				t.Errorf("attempt span links %v; want the publish span", a.Links)
			}
			attrs := attributes(a)
			statuses[attrs["webhookd.webhook_id"]] = append(statuses[attrs["webhookd.webhook_id"]], attrs["http.response.status_code"])
			if _, ok := attrs["webhookd.error_class"]; !ok {
				t.Errorf("attempt span without an error class: %v", attrs)
			}
		}
		for _, id := range []string{traced.ID, plain.ID} {
			if s := statuses[id]; len(s) != 2 || s[0] != "500" || s[1] != "200" {
				t.Errorf("webhook %s attempt statuses %v; want [500 200]", id, s)
			}
		}
	})
	t.Run("NoSecretOrBody", func(t *testing.T) {
		for _, s := range spans {
			for k, v := range attributes(s) {
				if strings.Contains(v, secret) || strings.Contains(v, "whsec_") || strings.Contains(v, "body-marker-123") {
					t.Errorf("span %s attribute %s = %q leaks the secret or body", s.Name, k, v)
				}
			}
		}
	})
	t.Run("TraceparentOnlyWhereAsked", func(t *testing.T) {
		attemptIDs := map[string]bool{}
		for _, a := range attempts {
			attemptIDs[a.SpanContext.SpanID().String()] = true
		}
		seen := map[string]bool{}
		for _, r := range gotTraced {
			tp := tracing.ParseTraceparent(r.Header.Get("traceparent"))
			if tp.TraceID() != publishSpan.SpanContext.TraceID() || !attemptIDs[tp.SpanID().String()] || seen[tp.SpanID().String()] {
				t.Errorf("traced webhook got traceparent %q; want one naming its own attempt span", r.Header.Get("traceparent"))
			}
			seen[tp.SpanID().String()] = true
		}
		for _, r := range gotPlain {
			if v := r.Header.Get("traceparent"); v != "" {
				t.Errorf("plain webhook got traceparent %q", v)
			}
		}
	})
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func attributes(s tracetest.SpanStub) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}
