// Package tracing is webhookd's OpenTelemetry tracing: one trace per
// message, made of the publish span and a span per delivery attempt. The
// publish span's context travels with the message through the log (as a
// W3C traceparent on message.published), so an attempt made hours later,
// or by another instance, still joins the message's trace. Tracing is off
// unless an OTLP endpoint is configured; off, every call here returns at
// once without allocating.
package tracing

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentation names webhookd's tracer to the backend.
const instrumentation = "github.com/webhookd/webhookd"

// HeaderTraceparent is the W3C Trace Context request header sent to
// receivers of webhooks that ask for it.
const HeaderTraceparent = "traceparent"

// noSpan is what the Start functions return while tracing is off: an
// interface value made once, so returning it allocates nothing.
var noSpan trace.Span = noop.Span{}

// Tracer makes webhookd's spans. A nil *Tracer is off: it makes none.
type Tracer struct {
	tracer trace.Tracer
}

// New returns a tracer over tp; the caller owns tp (its exporter and
// shutdown). Tests pass an SDK provider with an in-memory exporter.
func New(tp trace.TracerProvider) *Tracer {
	return &Tracer{tracer: tp.Tracer(instrumentation)}
}

// Setup returns a tracer that exports over OTLP/HTTP to endpoint (a
// collector's URL such as http://collector:4318, or host:port for plain
// HTTP), and the
// shutdown that flushes what is batched. An empty endpoint is off: a nil
// tracer and a shutdown that does nothing.
func Setup(ctx context.Context, endpoint, version string) (*Tracer, func(context.Context) error, error) {
	if endpoint == "" {
		return nil, func(context.Context) error { return nil }, nil
	}
	opts, err := exporterOptions(endpoint)
	if err != nil {
		return nil, nil, err
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("otlp exporter %s: %w", endpoint, err)
	}
	res := resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName("webhookd"), semconv.ServiceVersion(version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return New(tp), tp.Shutdown, nil
}

// exporterOptions reads endpoint as a collector's base URL, as
// OTEL_EXPORTER_OTLP_ENDPOINT is read: a URL without a path gets the
// traces path, /v1/traces; host:port alone means plain HTTP.
func exporterOptions(endpoint string) ([]otlptracehttp.Option, error) {
	if !strings.Contains(endpoint, "://") {
		return []otlptracehttp.Option{otlptracehttp.WithEndpoint(endpoint), otlptracehttp.WithInsecure()}, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("otel endpoint %q is not an http(s) URL or host:port", endpoint)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return []otlptracehttp.Option{otlptracehttp.WithEndpointURL(u.String())}, nil
}

// Enabled reports whether spans are made.
func (t *Tracer) Enabled() bool { return t != nil }

// StartPublish starts the span of publishing one event and returns it
// with its W3C traceparent, which the message stores so that its
// attempts join the trace. Off, it returns a no-op span and "".
func (t *Tracer) StartPublish(ctx context.Context, account, eventType string) (trace.Span, string) {
	if t == nil {
		return noSpan, ""
	}
	_, span := t.tracer.Start(ctx, "webhookd.publish", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("webhookd.account", account), attribute.String("webhookd.event_type", eventType)))
	return span, Traceparent(span.SpanContext())
}

// EndPublish ends a publish span with the message it created (or
// repeated) and the fault that stopped it, if any.
func EndPublish(span trace.Span, messageID string, duplicate bool, err error) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("webhookd.message_id", messageID), attribute.Bool("webhookd.duplicate", duplicate))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Attempt names one delivery attempt for its span. It holds no secret
// and no body: only what identifies the attempt.
type Attempt struct {
	WebhookID, DeliveryID, MessageID string
	Test                             bool
	// Parent is the traceparent the message stored at publishing; empty
	// for messages published with tracing off (or before it existed),
	// whose attempts then start traces of their own.
	Parent string
}

// StartAttempt starts the span of one delivery attempt as a child of the
// message's publish span, linked to it, and returns the context to send
// with. Off, it returns ctx and a no-op span.
func (t *Tracer) StartAttempt(ctx context.Context, a Attempt) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noSpan
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("webhookd.webhook_id", a.WebhookID), attribute.String("webhookd.delivery_id", a.DeliveryID),
		attribute.String("webhookd.message_id", a.MessageID), attribute.Bool("webhookd.test", a.Test))}
	if parent := ParseTraceparent(a.Parent); parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: parent}))
	}
	return t.tracer.Start(ctx, "webhookd.attempt", opts...)
}

// EndAttempt ends an attempt span with what the attempt produced: the
// response status (0 when none came), its latency and the error class.
func EndAttempt(span trace.Span, status int, latency time.Duration, errClass string) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status),
		attribute.Int64("webhookd.latency_ms", latency.Milliseconds()), attribute.String("webhookd.error_class", errClass))
	if status/100 != 2 {
		span.SetStatus(codes.Error, errClass)
	}
	span.End()
}

// Traceparent formats sc as a W3C traceparent header value, "" when sc is
// not valid.
func Traceparent(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	return carrier[HeaderTraceparent]
}

// ParseTraceparent reads a W3C traceparent value; an empty or malformed
// one gives an invalid span context.
func ParseTraceparent(v string) trace.SpanContext {
	if v == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{HeaderTraceparent: v})
	return trace.SpanContextFromContext(ctx)
}
