package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// requestPayload is the JSON body every delivery POSTs. It mirrors
// delivery.Payload field for field and in order, so that json.Marshal
// gives the same bytes the dispatcher sends and signs; graph does not
// import the delivery adapter. TestRequestBodyIsWhatWasSent compares the
// two on a real delivery, so a drift fails a test.
type requestPayload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Account   string          `json:"account"`
	Data      json.RawMessage `json:"data"`
}

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
	body, err := requestBody(m)
	if err != nil {
		return "", fmt.Errorf("request body of delivery %s: %w", d.ID, err)
	}
	return string(body), nil
}

// requestBody builds a message's delivery body as the dispatcher does.
func requestBody(m domain.MessagePublished) ([]byte, error) {
	return json.Marshal(requestPayload{ID: m.MessageID, Type: m.Type, Timestamp: m.PublishedAt, Account: m.AccountID, Data: m.Data})
}
