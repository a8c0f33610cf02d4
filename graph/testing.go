package graph

import (
	"context"
	"encoding/json"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// The testing tool: send one event to one webhook now (testWebhook), or a
// webhook.test event to every webhook of the account (checkWebhooks).

func (r *mutationResolver) testWebhook(ctx context.Context, input model.TestWebhookInput) (*model.TestWebhookPayload, error) {
	p, id, err := webhookInput(ctx, input.ID)
	var res app.TestResult
	if err == nil {
		res, err = r.App.TestWebhook(ctx, p, id, input.Type, json.RawMessage(input.Payload))
	}
	out := &model.TestWebhookPayload{}
	return payload(err, out, &out.UserErrors, func() {
		out.Result = toTestResult(res)
		if v, err := r.App.Delivery(ctx, p, res.DeliveryID); err == nil {
			out.Delivery = toDelivery(v)
		}
	})
}

// checkWebhooks reports each webhook's result or, for a user mistake such
// as an unverified URL, its error in plain words; a fault fails the whole
// check.
func (r *mutationResolver) checkWebhooks(ctx context.Context) (*model.CheckWebhooksPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	results, err := r.App.CheckWebhooks(ctx, p)
	for _, c := range results {
		if c.Err != nil && domain.ErrorCode(c.Err) == domain.EINTERNAL {
			return nil, c.Err
		}
	}
	out := &model.CheckWebhooksPayload{Results: make([]model.WebhookCheck, 0, len(results))}
	return payload(err, out, &out.UserErrors, func() {
		for _, c := range results {
			check := model.WebhookCheck{Webhook: r.toWebhook(c.Webhook)}
			if c.Err != nil {
				check.Error = optional(domain.ErrorMessage(c.Err))
			} else {
				check.Result = toTestResult(c.Result)
			}
			out.Results = append(out.Results, check)
		}
	})
}

func toTestResult(t app.TestResult) *model.TestResult {
	out := &model.TestResult{Succeeded: t.Succeeded, LatencyMs: int(t.Latency.Milliseconds()),
		ErrorClass: optional(t.ErrorClass), ErrorMessage: optional(t.ErrorMessage), ResponseExcerpt: optional(t.ResponseExcerpt),
		PassesFilter: t.PassesFilter}
	if t.StatusCode != 0 {
		c := t.StatusCode
		out.StatusCode = &c
	}
	return out
}
