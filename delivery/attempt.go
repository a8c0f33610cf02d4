package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections"
)

// attemptGrace bounds how long an attempt already under way may take to
// finish and be recorded during shutdown.
const attemptGrace = DefaultTimeout + 5*time.Second

// attempt makes one owed attempt and records it. Its context is not the
// dispatcher's: shutdown lets it finish, so nothing sent goes unrecorded.
func (d *Dispatcher) attempt(l *lane, view projections.WebhookView, e projections.DueEntry) {
	defer d.workers.Done()
	ctx, cancel := context.WithTimeout(context.Background(), attemptGrace)
	defer cancel()
	pos, outcome, res, err := d.attemptOnce(ctx, view, e)
	if err != nil {
		d.Logger.Error("dispatcher: attempt not recorded; it stays due", "delivery", e.DeliveryID, "webhook", e.WebhookID, "err", err)
	}
	// Back off the whole lane when the endpoint asks for it (429, 502, 503,
	// 504), and also when no response came at all (refused, timed out,
	// unresolvable): a dead endpoint with a million pending deliveries must
	// not be hammered with a million futile attempts. Each delivery keeps
	// its own retry schedule besides.
	unreachable := err == nil && pos != 0 && res.Outcome.StatusCode == 0 && res.Outcome.ErrClass != ""
	slowDown := outcome.SlowDown || unreachable
	d.finish(l, e.DeliveryID, pos, slowDown, outcome.Result == domain.ResultSucceeded)
}

// attemptOnce loads the delivery and its message, sends, and appends the
// attempt with its outcome (and, for a first attempt, the scheduling) in
// one append at the delivery's expected revision. Losing that race to
// another instance means it made the attempt; nothing is recorded twice.
func (d *Dispatcher) attemptOnce(ctx context.Context, view projections.WebhookView, e projections.DueEntry) (eventstore.Position, domain.RetryDecision, Result, error) {
	stream := domain.DeliveryStream(e.DeliveryID)
	state, err := d.loadDelivery(ctx, stream)
	if err != nil {
		return 0, domain.RetryDecision{}, Result{}, err
	}
	expected := state.ExpectedRevision()
	var events []eventstore.Event
	if !state.Exists() {
		scheduled, err := domain.DecideDelivery(state, domain.ScheduleDelivery{
			DeliveryID: e.DeliveryID, MessageID: e.MessageID, WebhookID: e.WebhookID, AccountID: e.AccountID,
			EventType: e.EventType, Test: e.Test, DueAt: e.DueAt,
		}, d.Now())
		if err != nil {
			return 0, domain.RetryDecision{}, Result{}, err
		}
		events = append(events, scheduled...)
		for _, ev := range scheduled {
			state = domain.EvolveDelivery(state, ev)
		}
	}
	if state.Final() {
		return 0, domain.RetryDecision{}, Result{}, nil // already finished; the index will catch up
	}
	body, err := d.body(ctx, e.MessageID)
	if err != nil {
		return 0, domain.RetryDecision{}, Result{}, err
	}
	now := d.Now()
	res := d.Sender.Send(ctx, Request{
		URL: view.URL, MessageID: e.MessageID, Timestamp: now, Body: body,
		Secrets: view.SigningSecrets(now), Headers: view.Headers,
	})
	decided, err := domain.DecideDelivery(state, domain.RecordAttempt{
		Outcome: res.Outcome, Latency: res.Latency, ErrorMessage: res.ErrorMessage,
		ResponseExcerpt: res.Excerpt, RequestHeaders: res.RequestHeaders, Rand: d.Rand(),
	}, now)
	if err != nil {
		return 0, domain.RetryDecision{}, Result{}, err
	}
	events = append(events, decided...)
	appended, err := d.append(ctx, stream, expected, events)
	if eventstore.IsWrongExpectedVersion(err) {
		return 0, domain.RetryDecision{}, res, nil
	}
	if err != nil {
		return 0, domain.RetryDecision{}, res, fmt.Errorf("append %s: %w", stream, err)
	}
	verdict := d.observe(ctx, view, e, res, decided)
	return appended.Position, verdict, res, nil
}

// observe reports metrics and takes the webhook-level consequences of an
// attempt: 410 Gone, or five days of nothing but failures, disables it.
func (d *Dispatcher) observe(ctx context.Context, view projections.WebhookView, e projections.DueEntry, res Result, decided []eventstore.Event) domain.RetryDecision {
	var verdict domain.RetryDecision
	for _, ev := range decided {
		switch ev := ev.(type) {
		case domain.DeliverySucceeded:
			verdict.Result = domain.ResultSucceeded
		case domain.DeliveryRetryScheduled:
			verdict.Result, verdict.SlowDown = domain.ResultRetry, ev.SlowDown
		case domain.DeliveryFailed:
			verdict.Result = domain.ResultFailed
			if ev.DisablesWebhook {
				d.disable(ctx, view.ID, "the endpoint answered 410 Gone")
			}
		}
	}
	d.Metrics.attempted(view.ID, verdict.Result, res)
	if verdict.Result != domain.ResultSucceeded && !e.Test {
		h, err := projections.WebhookHealth(d.ReadDB, view.ID)
		since := h.FailingSince
		if since.IsZero() {
			since = d.Now()
		}
		if err == nil && domain.ShouldDisableForFailures(since, d.Now(), domain.DefaultDisableAfter) {
			d.disable(ctx, view.ID, "every delivery has failed for 5 days")
		}
	}
	return verdict
}

func (d *Dispatcher) disable(ctx context.Context, webhookID, reason string) {
	if d.Disabler == nil {
		return
	}
	if err := d.Disabler.DisableWebhook(ctx, webhookID, reason); err != nil && domain.ErrorCode(err) != domain.EINVALID {
		d.Logger.Error("dispatcher: disable webhook", "webhook", webhookID, "err", err)
		return
	}
	d.Logger.Warn("webhook disabled", "webhook", webhookID, "reason", reason)
}

func (d *Dispatcher) loadDelivery(ctx context.Context, stream string) (domain.DeliveryState, error) {
	recs, err := d.Store.ReadStream(ctx, stream, 0, 10000)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return domain.DeliveryState{}, nil
	}
	if err != nil {
		return domain.DeliveryState{}, fmt.Errorf("read %s: %w", stream, err)
	}
	var s domain.DeliveryState
	for _, r := range recs {
		ev, err := d.Codec.Decode(r)
		if err != nil {
			return s, err
		}
		s = domain.EvolveDelivery(s, ev)
	}
	return s, nil
}

// body returns the request body of a message: from the cache when another
// webhook's attempt read it recently, else from the store.
func (d *Dispatcher) body(ctx context.Context, messageID string) ([]byte, error) {
	if body, ok := d.bodies.get(messageID); ok {
		return body, nil
	}
	msg, err := d.loadMessage(ctx, messageID)
	if err != nil {
		return nil, err
	}
	body, err := messageBody(msg)
	if err != nil {
		return nil, err
	}
	d.bodies.put(messageID, body)
	return body, nil
}

func (d *Dispatcher) loadMessage(ctx context.Context, id string) (domain.MessagePublished, error) {
	recs, err := d.Store.ReadStream(ctx, domain.MessageStream(id), 0, 1)
	if err != nil {
		return domain.MessagePublished{}, fmt.Errorf("read message %s: %w", id, err)
	}
	ev, err := d.Codec.Decode(recs[0])
	if err != nil {
		return domain.MessagePublished{}, err
	}
	m, ok := ev.(domain.MessagePublished)
	if !ok {
		return domain.MessagePublished{}, fmt.Errorf("message %s starts with %s", id, recs[0].Type)
	}
	return m, nil
}

func (d *Dispatcher) append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.Event) (eventstore.AppendResult, error) {
	data := make([]eventstore.EventData, len(events))
	for i, ev := range events {
		enc, err := d.Codec.Encode(ev)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		data[i] = enc
	}
	return d.Store.Append(ctx, stream, expected, data...)
}

// Payload is the JSON body every delivery carries. id is the message ID,
// the same as the webhook-id header, so receivers can deduplicate.
type Payload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Account   string          `json:"account"`
	Data      json.RawMessage `json:"data"`
}

func messageBody(m domain.MessagePublished) ([]byte, error) {
	return json.Marshal(Payload{ID: m.MessageID, Type: m.Type, Timestamp: m.PublishedAt, Account: m.AccountID, Data: m.Data})
}
