package delivery

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections/due"
)

var _ app.TestSender = (*Dispatcher)(nil)

// SendTest sends a test message to one webhook at once, outside its lane
// (a person is waiting for the answer), and records it as a delivery
// flagged test with a single attempt.
func (d *Dispatcher) SendTest(ctx context.Context, view app.WebhookView, msg domain.MessagePublished) (app.TestResult, error) {
	e := due.DueEntry{
		DeliveryID: domain.DeliveryIDFor(msg.MessageID, view.ID), MessageID: msg.MessageID, WebhookID: view.ID,
		AccountID: view.AccountID, EventType: msg.Type, Test: true, DueAt: msg.PublishedAt,
	}
	out, err := d.attemptOnce(ctx, view, e, false)
	d.testRecorded(out, err)
	if err != nil {
		return app.TestResult{}, fmt.Errorf("test delivery: %w", err)
	}
	res := out.res
	return app.TestResult{
		DeliveryID: e.DeliveryID, Position: out.recorded, Succeeded: out.verdict.Result == domain.ResultSucceeded,
		StatusCode: res.Outcome.StatusCode, ErrorClass: res.Outcome.ErrClass, ErrorMessage: res.ErrorMessage,
		Latency: res.Latency, ResponseExcerpt: string(res.Excerpt),
	}, nil
}

// testRecorded lets a test send steer the store pause as a lane attempt
// does: a record the store refused starts (or doubles) the pause of
// dispatch, and a recorded one ends the back-off.
func (d *Dispatcher) testRecorded(out attempted, err error) {
	now := d.Now()
	var paused, resumed bool
	d.mu.Lock()
	switch {
	case err != nil:
		d.notRecorded(now, err, &paused)
	case out.recorded != 0:
		resumed = d.storeBackoff != 0
		d.storeBackoff = 0
	}
	until := d.storePausedUntil
	d.mu.Unlock()
	d.storeStateChanged(paused, resumed, until, err)
}
