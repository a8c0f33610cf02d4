package graph

import (
	"context"
	"github.com/webhookd/webhookd/app"
	"strconv"
	"strings"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

const kindDelivery = "Delivery"

func toDelivery(v app.DeliveryView) *model.Delivery {
	d := &model.Delivery{
		ID: domain.EncodeGlobalID(kindDelivery, v.ID), WebhookID: v.WebhookID, AccountID: v.AccountID,
		MessageID: v.MessageID, MessageGlobalID: domain.EncodeGlobalID("Message", v.MessageID), EventType: v.EventType, Status: model.DeliveryStatus(strings.ToUpper(string(v.Status))),
		Test: v.Test, AttemptCount: v.DeliveryState.Attempts, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		Attempts: make([]model.DeliveryAttempt, 0, len(v.Attempts)), Revision: v.Revision,
	}
	if !v.NextAttemptAt.IsZero() && !v.Final() {
		t := v.NextAttemptAt
		d.NextAttemptAt = &t
	}
	if v.LastStatusCode != 0 {
		c := v.LastStatusCode
		d.LastStatusCode = &c
	}
	if v.FailureReason != "" {
		r := v.FailureReason
		d.FailureReason = &r
	}
	for _, a := range v.Attempts {
		d.Attempts = append(d.Attempts, toAttempt(a))
	}
	return d
}

// deliveryAttempts resolves Delivery.attempts. They are read from the
// delivery's stream, so only when a query asks for them: a listing or a
// deliveryUpdated subscription that leaves them out reads no stream.
func (r *deliveryResolver) deliveryAttempts(ctx context.Context, d *model.Delivery) ([]model.DeliveryAttempt, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, _ := deliveryID(d.ID)
	log, err := r.App.DeliveryAttempts(ctx, p, app.DeliveryView{
		DeliveryState: domain.DeliveryState{ID: id, AccountID: d.AccountID, MessageID: d.MessageID, Test: d.Test, Attempts: d.AttemptCount},
		Revision:      d.Revision,
	})
	if err != nil {
		return nil, err
	}
	if len(log) == 0 {
		return d.Attempts, nil // the stream is gone: what the read model kept
	}
	out := make([]model.DeliveryAttempt, 0, len(log))
	for _, a := range log {
		out = append(out, toAttempt(a))
	}
	return out, nil
}

func toAttempt(a app.AttemptView) model.DeliveryAttempt {
	out := model.DeliveryAttempt{Number: a.Number, At: a.At, LatencyMs: int(a.LatencyMs), RequestHeaders: toHeaders(a.RequestHeaders), Batch: toAttemptBatch(a)}
	if a.StatusCode != 0 {
		c := a.StatusCode
		out.StatusCode = &c
	}
	out.ErrorClass, out.ErrorMessage, out.ResponseExcerpt = optional(a.ErrorClass), optional(a.ErrorMessage), optional(a.ResponseExcerpt)
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deliveryID(gid string) (string, bool) {
	kind, id, err := domain.DecodeGlobalID(gid)
	return id, err == nil && kind == kindDelivery
}

func (r *deliveryResolver) deliveryWebhook(ctx context.Context, d *model.Delivery) (*model.Webhook, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	view, err := r.App.Webhook(ctx, p, d.WebhookID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, nil // deleted since
	}
	if err != nil {
		return nil, err
	}
	return r.toWebhook(view), nil
}

func (r *queryResolver) deliveries(ctx context.Context, webhook string, status *model.DeliveryStatus, since *time.Time, test *bool, first *int, after *string) (*model.DeliveryConnection, error) {
	p, n, err := pageArgs(ctx, first, 20)
	if err != nil {
		return nil, err
	}
	conn := &model.DeliveryConnection{Edges: []model.DeliveryEdge{}, Nodes: []model.Delivery{}, PageInfo: &model.PageInfo{}}
	id, ok := webhookID(webhook)
	if !ok {
		return conn, nil
	}
	f := app.DeliveryFilter{Test: test}
	if status != nil {
		f.Status = strings.ToLower(string(*status))
	}
	if since != nil {
		f.Since = *since
	}
	page, err := r.App.Deliveries(ctx, p, id, f, n, deref(after))
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return conn, nil // another tenant's webhook lists like a missing one
	}
	if err != nil {
		return nil, err
	}
	for i, v := range page.Deliveries {
		d := toDelivery(v)
		conn.Edges = append(conn.Edges, model.DeliveryEdge{Cursor: page.Cursors[i], Node: d})
		conn.Nodes = append(conn.Nodes, *d)
	}
	conn.PageInfo.HasNextPage = page.HasNextPage
	if len(page.Cursors) > 0 {
		conn.PageInfo.EndCursor = &page.Cursors[len(page.Cursors)-1]
	}
	return conn, nil
}

func (r *queryResolver) delivery(ctx context.Context, gid string) (*model.Delivery, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := deliveryID(gid)
	if !ok {
		return nil, nil
	}
	v, err := r.App.Delivery(ctx, p, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return toDelivery(v), nil
}

func (r *mutationResolver) redeliver(ctx context.Context, input model.RedeliverInput) (*model.RedeliverPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := deliveryID(input.Delivery)
	if ok {
		err = r.App.Redeliver(ctx, p, id)
	} else {
		err = domain.FieldErrorf(domain.ENOTFOUND, "delivery", "delivery not found")
	}
	out := &model.RedeliverPayload{}
	return payload(err, out, &out.UserErrors, func() {
		if v, err := r.App.Delivery(ctx, p, id); err == nil {
			out.Delivery = toDelivery(v)
		}
	})
}

func (r *mutationResolver) recoverDeliveries(ctx context.Context, input model.RecoverDeliveriesInput) (*model.RecoverDeliveriesPayload, error) {
	p, id, err := webhookInput(ctx, input.Webhook)
	var n int
	if err == nil {
		n, err = r.App.RecoverDeliveries(ctx, p, id, input.Since)
	}
	out := &model.RecoverDeliveriesPayload{}
	return payload(err, out, &out.UserErrors, func() { out.Count = n })
}

func (r *subscriptionResolver) deliveryUpdated(ctx context.Context, webhook *string) (<-chan *model.Delivery, error) {
	p, changes, cancel, err := r.subscribe(ctx, app.TopicWebhookDeliveries, "webhook", webhook)
	if err != nil {
		return nil, err
	}
	return relay(ctx, changes, cancel, func() bool { return r.App.StillValid(p) }, func(c app.Change) (*model.Delivery, bool) {
		v, err := r.App.Delivery(ctx, p, c.Ref)
		if err != nil {
			return nil, false
		}
		d := toDelivery(v)
		d.Change, d.ChangePosition = deliveryChange(c.What), optional(strconv.FormatUint(uint64(c.Position), 10))
		return d, true
	}), nil
}

// deliveryChanges are the GraphQL names of what a delivery change reports.
var deliveryChanges = map[app.ChangeWhat]model.DeliveryChange{
	app.DeliveryListed:          model.DeliveryChangeListed,
	app.DeliveryAttemptRecorded: model.DeliveryChangeAttemptRecorded,
	app.DeliveryStatusChanged:   model.DeliveryChangeStatusChanged,
	app.DeliveryRescheduled:     model.DeliveryChangeRescheduled,
}

// deliveryChange names what a deliveryUpdated message reports.
func deliveryChange(w app.ChangeWhat) *model.DeliveryChange {
	if c, ok := deliveryChanges[w]; ok {
		return &c
	}
	return nil
}
