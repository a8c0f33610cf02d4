package delivery

import (
	"context"
	"testing"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/projections/due"
)

// TestTraceAttemptOffAllocatesNothing: with tracing off and a webhook that
// did not ask for the traceparent header, the attempt's tracing hook
// neither reads the message nor allocates.
func TestTraceAttemptOffAllocatesNothing(t *testing.T) {
	d := NewDispatcher() // no Store: a message read would panic
	ctx := context.Background()
	e := due.DueEntry{DeliveryID: "dlv_1", MessageID: "m1", WebhookID: "wh_1"}
	var view app.WebhookView
	allocs := testing.AllocsPerRun(1000, func() {
		_, span, tp := d.traceAttempt(ctx, view, e)
		endAttemptSpan(span, Result{})
		if tp != "" {
			t.Fatal("traceparent sent with tracing off")
		}
	})
	if allocs != 0 {
		t.Fatalf("tracing hook allocates %v times per attempt with tracing off; want 0", allocs)
	}
}
