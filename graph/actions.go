package graph

import (
	"context"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
	"github.com/webhookd/webhookd/projections"
)

type principalT = app.Principal

// webhookAction runs a command on one webhook that takes only its ID and
// answers with the webhook.
func (r *mutationResolver) webhookAction(ctx context.Context, gid string, do func(context.Context, app.Principal, string) (projections.WebhookView, error)) (*model.WebhookPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := webhookID(gid)
	if !ok {
		return &model.WebhookPayload{UserErrors: notFound()}, nil
	}
	view, err := do(ctx, p, id)
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	out := &model.WebhookPayload{UserErrors: ue}
	if len(ue) == 0 {
		out.Webhook = toWebhook(view)
	}
	return out, nil
}

func notFound() []model.UserError {
	return []model.UserError{{Field: []string{"input", "id"}, Message: "webhook not found", Code: model.UserErrorCodeNotFound}}
}

func headerMap(in []model.HeaderInput) map[string]string {
	if in == nil {
		return nil
	}
	m := make(map[string]string, len(in))
	for _, h := range in {
		m[h.Name] = h.Value
	}
	return m
}

func rateLimit(in model.RateLimitInput) domain.RateLimit {
	rl := domain.RateLimit{PerSecond: in.PerSecond, Burst: deref(in.Burst)}
	if rl.Burst == 0 {
		rl.Burst = rl.PerSecond
	}
	return rl
}
