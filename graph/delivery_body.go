package graph

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// deliveryRequestBody resolves Delivery.requestBody: the body depends on
// the message and the webhook's body format only, so it is rebuilt from
// the message rather than stored with each attempt.
func (r *deliveryResolver) deliveryRequestBody(ctx context.Context, d *model.Delivery) (string, error) {
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	m, err := r.App.Message(ctx, p, d.MessageID)
	if err != nil {
		return "", fmt.Errorf("request body of delivery %s: %w", d.ID, err)
	}
	format, err := r.deliveryBodyFormat(ctx, p, d)
	if err != nil {
		return "", fmt.Errorf("request body of delivery %s: %w", d.ID, err)
	}
	body, err := m.DeliveryBodyAs(format)
	if err != nil {
		return "", fmt.Errorf("request body of delivery %s: %w", d.ID, err)
	}
	return string(body), nil
}

// deliveryBodyFormat is the format the delivery was last sent in, read from
// its last attempt's Content-Type, so the body shown is the one sent even
// after the webhook's format changed; before any attempt it is the
// webhook's current format (JSON once the webhook is deleted).
func (r *deliveryResolver) deliveryBodyFormat(ctx context.Context, p app.Principal, d *model.Delivery) (domain.BodyFormat, error) {
	attempts, err := r.deliveryAttempts(ctx, d)
	if err != nil {
		return "", err
	}
	if n := len(attempts); n > 0 {
		for _, h := range attempts[n-1].RequestHeaders {
			if f, ok := domain.BodyFormatOfContentType(h.Value); ok && h.Name == "Content-Type" {
				return f, nil
			}
		}
	}
	view, err := r.App.Webhook(ctx, p, d.WebhookID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return domain.BodyFormatJSON, nil
	}
	return view.BodyFormat, err
}
