package graph

import (
	"context"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// The webhook lifecycle mutations: create, update, delete, pause, resume,
// verify and rotate the secret.

func (r *mutationResolver) createWebhook(ctx context.Context, input model.CreateWebhookInput) (*model.CreateWebhookPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	cmd := domain.CreateWebhook{
		Name: input.Name, URL: input.URL, EventTypes: input.EventTypes,
		Description: deref(input.Description), Headers: headerMap(input.Headers),
		MaxConcurrency: deref(input.MaxConcurrency), Filter: input.Filter,
		BodyFormat: deref(bodyFormatIn(input.BodyFormat)), Retry: retrySettingsIn(input.RetryPolicy),
		SendTraceparent: deref(input.SendTraceparent),
		Ordering:        orderingIn(input.Ordering),
		Batching:        batchingIn(input.Batching),
	}
	if input.RateLimit != nil {
		cmd.RateLimit = rateLimit(*input.RateLimit)
	}
	view, err := r.App.CreateWebhook(ctx, p, cmd)
	out := &model.CreateWebhookPayload{}
	return payload(err, out, &out.UserErrors, func() { out.Webhook = r.toWebhook(view) })
}

func (r *mutationResolver) updateWebhook(ctx context.Context, input model.UpdateWebhookInput) (*model.UpdateWebhookPayload, error) {
	out := &model.UpdateWebhookPayload{}
	p, id, err := webhookInput(ctx, input.ID)
	if err != nil {
		return payload(err, out, &out.UserErrors, nil)
	}
	cmd := domain.UpdateWebhook{
		Name: input.Name, URL: input.URL, EventTypes: input.EventTypes, Description: input.Description,
		MaxConcurrency: input.MaxConcurrency, Filter: input.Filter,
		BodyFormat: bodyFormatIn(input.BodyFormat), Retry: retrySettingsIn(input.RetryPolicy),
		SendTraceparent: input.SendTraceparent,
		Ordering:        orderingIn(input.Ordering),
		Batching:        batchingIn(input.Batching),
	}
	if input.Headers != nil {
		cmd.Headers = headerMap(input.Headers)
	}
	if input.RateLimit != nil {
		rl := rateLimit(*input.RateLimit)
		cmd.RateLimit = &rl
	}
	var expected *uint64
	if input.ExpectedRevision != nil {
		if *input.ExpectedRevision < 0 {
			return payload(domain.FieldErrorf(domain.EINVALID, "expectedRevision", "expectedRevision must not be negative"), out, &out.UserErrors, nil)
		}
		v := uint64(*input.ExpectedRevision)
		expected = &v
	}
	view, err := r.App.UpdateWebhook(ctx, p, id, expected, cmd)
	return payload(err, out, &out.UserErrors, func() { out.Webhook = r.toWebhook(view) })
}

func (r *mutationResolver) deleteWebhook(ctx context.Context, input model.DeleteWebhookInput) (*model.DeleteWebhookPayload, error) {
	p, id, err := webhookInput(ctx, input.ID)
	if err == nil {
		err = r.App.DeleteWebhook(ctx, p, id)
	}
	out := &model.DeleteWebhookPayload{}
	return payload(err, out, &out.UserErrors, func() { out.DeletedWebhookID = &input.ID })
}

// webhookAction runs a command on one webhook that takes only its ID and
// answers with the webhook: pause, resume, rotate the secret.
func (r *mutationResolver) webhookAction(ctx context.Context, gid string, do func(context.Context, app.Principal, string) (app.WebhookView, error)) (*model.WebhookPayload, error) {
	p, id, err := webhookInput(ctx, gid)
	var view app.WebhookView
	if err == nil {
		view, err = do(ctx, p, id)
	}
	out := &model.WebhookPayload{}
	return payload(err, out, &out.UserErrors, func() { out.Webhook = r.toWebhook(view) })
}

func (r *mutationResolver) rotateWebhookSecret(ctx context.Context, input model.RotateWebhookSecretInput) (*model.WebhookPayload, error) {
	overlap := time.Duration(deref(input.OverlapSeconds)) * time.Second
	if overlap < 0 {
		out := &model.WebhookPayload{}
		return payload(domain.FieldErrorf(domain.EINVALID, "overlapSeconds", "overlapSeconds must not be negative"), out, &out.UserErrors, nil)
	}
	return r.webhookAction(ctx, input.ID, func(ctx context.Context, p app.Principal, id string) (app.WebhookView, error) {
		return r.App.RotateWebhookSecret(ctx, p, id, overlap)
	})
}

func (r *mutationResolver) verifyWebhook(ctx context.Context, input model.WebhookIDInput) (*model.VerifyWebhookPayload, error) {
	p, id, err := webhookInput(ctx, input.ID)
	var view app.WebhookView
	var reason string
	out := &model.VerifyWebhookPayload{}
	if err == nil {
		view, out.Verified, reason, err = r.App.VerifyWebhook(ctx, p, id)
	}
	return payload(err, out, &out.UserErrors, func() {
		out.Webhook = r.toWebhook(view)
		if !out.Verified && reason != "" {
			out.Reason = &reason
		}
	})
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
