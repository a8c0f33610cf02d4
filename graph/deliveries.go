package graph

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
	"github.com/webhookd/webhookd/projections"
)

const kindDelivery = "Delivery"

func toDelivery(v projections.DeliveryView) *model.Delivery {
	d := &model.Delivery{
		ID: domain.EncodeGlobalID(kindDelivery, v.ID), WebhookID: v.WebhookID, AccountID: v.AccountID,
		MessageID: v.MessageID, MessageGlobalID: domain.EncodeGlobalID("Message", v.MessageID), EventType: v.EventType, Status: model.DeliveryStatus(strings.ToUpper(string(v.Status))),
		Test: v.Test, AttemptCount: v.DeliveryState.Attempts, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		Attempts: make([]model.DeliveryAttempt, 0, len(v.Attempts)),
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

func toAttempt(a projections.AttemptView) model.DeliveryAttempt {
	out := model.DeliveryAttempt{Number: a.Number, At: a.At, LatencyMs: int(a.LatencyMs), RequestHeaders: []model.Header{}}
	if a.StatusCode != 0 {
		c := a.StatusCode
		out.StatusCode = &c
	}
	out.ErrorClass, out.ErrorMessage, out.ResponseExcerpt = optional(a.ErrorClass), optional(a.ErrorMessage), optional(a.ResponseExcerpt)
	names := make([]string, 0, len(a.RequestHeaders))
	for n := range a.RequestHeaders {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		out.RequestHeaders = append(out.RequestHeaders, model.Header{Name: n, Value: a.RequestHeaders[n]})
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toTestResult(t app.TestResult) *model.TestResult {
	out := &model.TestResult{Succeeded: t.Succeeded, LatencyMs: int(t.Latency.Milliseconds()),
		ErrorClass: optional(t.ErrorClass), ErrorMessage: optional(t.ErrorMessage), ResponseExcerpt: optional(t.ResponseExcerpt)}
	if t.StatusCode != 0 {
		c := t.StatusCode
		out.StatusCode = &c
	}
	return out
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
	return toWebhook(view), nil
}

func (r *queryResolver) deliveries(ctx context.Context, webhook string, status *model.DeliveryStatus, since *time.Time, test *bool, first *int, after *string) (*model.DeliveryConnection, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	n, err := pageSize(first, 20)
	if err != nil {
		return nil, err
	}
	conn := &model.DeliveryConnection{Edges: []model.DeliveryEdge{}, Nodes: []model.Delivery{}, PageInfo: &model.PageInfo{}}
	id, ok := webhookID(webhook)
	if !ok {
		return conn, nil
	}
	f := projections.DeliveryFilter{Test: test}
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

var statsWindows = map[model.StatsWindow]time.Duration{
	model.StatsWindowHour: time.Hour, model.StatsWindowDay: 24 * time.Hour, model.StatsWindowWeek: 7 * 24 * time.Hour,
}

func (r *queryResolver) stats(ctx context.Context, webhook string, window *model.StatsWindow) (*model.WebhookStats, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := webhookID(webhook)
	if !ok {
		return nil, nil
	}
	w := model.StatsWindowDay
	if window != nil {
		w = *window
	}
	s, err := r.App.Stats(ctx, p, id, statsWindows[w])
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &model.WebhookStats{
		From: s.From, To: s.To, Attempts: s.Attempts, Succeeded: s.Succeeded, Failed: s.Failed, SuccessRate: s.SuccessRate,
		P50LatencyMs: float64(s.P50) / float64(time.Millisecond), P95LatencyMs: float64(s.P95) / float64(time.Millisecond),
		StepSeconds: int(s.Step.Seconds()), Series: make([]model.StatsPoint, 0, len(s.Series)),
	}
	for _, pt := range s.Series {
		out.Series = append(out.Series, model.StatsPoint{At: pt.At, Attempts: pt.Attempts, Succeeded: pt.Succeeded, Failed: pt.Failed})
	}
	return out, nil
}

func (r *mutationResolver) publishEvents(ctx context.Context, input model.PublishEventsInput) (*model.PublishEventsPayload, error) {
	in := make([]app.PublishInput, len(input.Events))
	for i, e := range input.Events {
		in[i] = app.PublishInput{ID: deref(e.ID), Account: e.Account, Type: e.Type, Data: json.RawMessage(e.Data)}
	}
	res, err := r.App.Publish(ctx, in)
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	out := &model.PublishEventsPayload{UserErrors: ue, Results: make([]model.PublishEventResult, 0, len(res))}
	for _, pr := range res {
		item := model.PublishEventResult{Duplicate: pr.Duplicate, UserErrors: []model.UserError{}}
		if pr.Err != nil {
			item.UserErrors, _ = userErrors(pr.Err)
		} else {
			item.MessageID = &pr.MessageID
		}
		out.Results = append(out.Results, item)
	}
	return out, nil
}

func (r *mutationResolver) testWebhook(ctx context.Context, input model.TestWebhookInput) (*model.TestWebhookPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := webhookID(input.ID)
	if !ok {
		return &model.TestWebhookPayload{UserErrors: notFound()}, nil
	}
	res, err := r.App.TestWebhook(ctx, p, id, input.Type, json.RawMessage(input.Payload))
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	out := &model.TestWebhookPayload{UserErrors: ue}
	if len(ue) == 0 {
		out.Result = toTestResult(res)
		if v, err := r.App.Delivery(ctx, p, res.DeliveryID); err == nil {
			out.Delivery = toDelivery(v)
		}
	}
	return out, nil
}

func (r *mutationResolver) checkWebhooks(ctx context.Context) (*model.CheckWebhooksPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	results, err := r.App.CheckWebhooks(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &model.CheckWebhooksPayload{UserErrors: []model.UserError{}, Results: make([]model.WebhookCheck, 0, len(results))}
	for _, c := range results {
		check := model.WebhookCheck{Webhook: toWebhook(c.Webhook)}
		if c.Err != nil {
			if domain.ErrorCode(c.Err) == domain.EINTERNAL {
				return nil, c.Err
			}
			check.Error = optional(domain.ErrorMessage(c.Err))
		} else {
			check.Result = toTestResult(c.Result)
		}
		out.Results = append(out.Results, check)
	}
	return out, nil
}

func (r *mutationResolver) redeliver(ctx context.Context, input model.RedeliverInput) (*model.RedeliverPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	notFound := []model.UserError{{Field: []string{"input", "delivery"}, Message: "delivery not found", Code: model.UserErrorCodeNotFound}}
	id, ok := deliveryID(input.Delivery)
	if !ok {
		return &model.RedeliverPayload{UserErrors: notFound}, nil
	}
	ue, err := userErrors(r.App.Redeliver(ctx, p, id))
	if err != nil {
		return nil, err
	}
	out := &model.RedeliverPayload{UserErrors: ue}
	if len(ue) == 0 {
		if v, err := r.App.Delivery(ctx, p, id); err == nil {
			out.Delivery = toDelivery(v)
		}
	}
	return out, nil
}

func (r *mutationResolver) recoverDeliveries(ctx context.Context, input model.RecoverDeliveriesInput) (*model.RecoverDeliveriesPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := webhookID(input.Webhook)
	if !ok {
		return &model.RecoverDeliveriesPayload{UserErrors: notFound()}, nil
	}
	n, err := r.App.RecoverDeliveries(ctx, p, id, input.Since)
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	return &model.RecoverDeliveriesPayload{Count: n, UserErrors: ue}, nil
}

func (r *subscriptionResolver) deliveryUpdated(ctx context.Context, webhook *string) (<-chan *model.Delivery, error) {
	p, changes, cancel, err := r.subscribe(ctx, projections.TopicWebhookDeliveries, "webhook", webhook)
	if err != nil {
		return nil, err
	}
	return relay(ctx, changes, cancel, func() bool { return r.App.StillValid(p) }, func(c projections.Change) (*model.Delivery, bool) {
		v, ok, err := projections.GetDelivery(r.App.ReadDB, p.AccountID, c.Ref)
		if err != nil || !ok {
			return nil, false
		}
		d := toDelivery(v)
		d.Change, d.ChangePosition = deliveryChange(c.What), optional(strconv.FormatUint(uint64(c.Position), 10))
		return d, true
	}), nil
}

// deliveryChanges are the GraphQL names of what a delivery change reports.
var deliveryChanges = map[projections.ChangeWhat]model.DeliveryChange{
	projections.DeliveryListed:          model.DeliveryChangeListed,
	projections.DeliveryAttemptRecorded: model.DeliveryChangeAttemptRecorded,
	projections.DeliveryStatusChanged:   model.DeliveryChangeStatusChanged,
	projections.DeliveryRescheduled:     model.DeliveryChangeRescheduled,
}

// deliveryChange names what a deliveryUpdated message reports.
func deliveryChange(w projections.ChangeWhat) *model.DeliveryChange {
	if c, ok := deliveryChanges[w]; ok {
		return &c
	}
	return nil
}
