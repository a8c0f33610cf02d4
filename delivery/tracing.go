package delivery

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/internal/tracing"
	"github.com/webhookd/webhookd/projections/due"
)

// traceparentKeySuffix keys a message's stored traceparent in the body
// cache, beside its bodies: attempts of a message fanned out to many
// webhooks then read the message from the store once for both.
const traceparentKeySuffix = "\x00traceparent"

// traceAttempt starts the span of an attempt (a child of the message's
// publish span) and returns the traceparent header to send: the attempt
// span's, else the message's, and "" unless the webhook asked for it.
// With tracing off and the header not asked for, it returns at once.
func (d *Dispatcher) traceAttempt(ctx context.Context, view app.WebhookView, e due.DueEntry) (context.Context, trace.Span, string) {
	if !d.Tracer.Enabled() && !view.SendTraceparent {
		ctx, span := d.Tracer.StartAttempt(ctx, tracing.Attempt{})
		return ctx, span, ""
	}
	parent := d.messageTraceparent(ctx, e.MessageID)
	ctx, span := d.Tracer.StartAttempt(ctx, tracing.Attempt{
		WebhookID: e.WebhookID, DeliveryID: e.DeliveryID, MessageID: e.MessageID, Test: e.Test, Parent: parent,
	})
	if !view.SendTraceparent {
		return ctx, span, ""
	}
	if tp := tracing.Traceparent(span.SpanContext()); tp != "" {
		return ctx, span, tp
	}
	return ctx, span, parent
}

// endAttemptSpan records what the attempt produced on its span: status,
// latency and error class, never the body or a secret.
func endAttemptSpan(span trace.Span, res Result) {
	tracing.EndAttempt(span, res.Outcome.StatusCode, res.Latency, res.Outcome.ErrClass)
}

// messageTraceparent is the traceparent the message stored when it was
// published; "" when it has none or cannot be read (the attempt then
// starts a trace of its own, and the read error shows on the body read).
func (d *Dispatcher) messageTraceparent(ctx context.Context, messageID string) string {
	key := messageID + traceparentKeySuffix
	if tp, ok := d.bodies.get(key); ok {
		return string(tp)
	}
	msg, err := d.loadMessage(ctx, messageID)
	if err != nil {
		return ""
	}
	d.bodies.put(key, []byte(msg.Traceparent))
	return msg.Traceparent
}
