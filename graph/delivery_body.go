package graph

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/graph/model"
)

// deliveryRequestBody resolves Delivery.requestBody: the body is the same
// on every attempt (it depends on the message only), so it is rebuilt
// from the message rather than stored with each attempt.
func (r *deliveryResolver) deliveryRequestBody(ctx context.Context, d *model.Delivery) (string, error) {
	p, err := principal(ctx)
	if err != nil {
		return "", err
	}
	m, err := r.App.Message(ctx, p, d.MessageID)
	if err != nil {
		return "", fmt.Errorf("request body of delivery %s: %w", d.ID, err)
	}
	body, err := m.DeliveryBody()
	if err != nil {
		return "", fmt.Errorf("request body of delivery %s: %w", d.ID, err)
	}
	return string(body), nil
}
