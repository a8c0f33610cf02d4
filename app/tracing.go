package app

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/webhookd/webhookd/internal/tracing"
)

// WithTraceparent returns ctx carrying the publisher's W3C trace context
// (the value of its traceparent header), so the publish spans started
// under it continue the publisher's trace instead of starting their own.
// An empty or malformed value, or tracing off, leaves ctx as it is.
func (a *App) WithTraceparent(ctx context.Context, traceparent string) context.Context {
	if !a.Tracer.Enabled() || traceparent == "" {
		return ctx
	}
	if sc := tracing.ParseTraceparent(traceparent); sc.IsValid() {
		return trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return ctx
}

// publishSpans are the publish spans of one Publish call, one per event,
// started before the event is planned and ended with what became of it.
// Nil when tracing is off, so publishing allocates nothing for it.
type publishSpans []publishSpan

type publishSpan struct {
	span trace.Span
	// traceparent is stored on the message, so its attempts join the trace.
	traceparent string
}

func (a *App) startPublishSpans(ctx context.Context, events []PublishInput) publishSpans {
	if !a.Tracer.Enabled() {
		return nil
	}
	s := make(publishSpans, len(events))
	for i, in := range events {
		s[i].span, s[i].traceparent = a.Tracer.StartPublish(ctx, in.Account, in.Type)
	}
	return s
}

func (s publishSpans) traceparent(i int) string {
	if s == nil {
		return ""
	}
	return s[i].traceparent
}

// end ends each span with its event's result: the message ID, whether it
// repeated an earlier one, and the fault or user error that refused it.
func (s publishSpans) end(results []PublishResult, faults map[int]error) {
	for i, ps := range s {
		err := faults[i]
		if err == nil && results[i].Err != nil {
			err = results[i].Err
		}
		tracing.EndPublish(ps.span, results[i].MessageID, results[i].Duplicate, err)
	}
}
