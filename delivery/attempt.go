package delivery

import (
	"bytes"
	"context"
	"fmt"
	"github.com/webhookd/webhookd/app"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
	"github.com/webhookd/webhookd/projections/due"
)

// attemptGrace bounds how long an attempt already under way may take to
// finish and be recorded during shutdown.
const attemptGrace = domain.MaxAttemptTimeout + 5*time.Second

// attempted is what one attempt did, for the lane's bookkeeping.
type attempted struct {
	// recorded is the position of the attempt this call recorded; zero
	// when it recorded nothing.
	recorded eventstore.Position
	// seen is the position of the delivery stream's last event as this
	// call read or wrote it. Until the read models have applied it, the
	// due index may still list the delivery as it was.
	seen eventstore.Position
	// notDueUntil is set when the stream showed the attempt not yet due:
	// when it falls due.
	notDueUntil time.Time
	verdict     domain.RetryDecision
	res         Result
	sent        bool
	// batchID and batchSize are set when the request was a batch of one
	// (a test send to a batched webhook).
	batchID   string
	batchSize int
}

// attempt makes one owed attempt and records it. Its context is not the
// dispatcher's: shutdown lets it finish, so nothing sent goes unrecorded.
func (d *Dispatcher) attempt(l *lane, view app.WebhookView, e due.DueEntry) {
	defer d.workers.Done()
	ctx, cancel := context.WithTimeout(context.Background(), attemptGrace)
	defer cancel()
	out, err := d.attemptOnce(ctx, view, e, true)
	if err != nil {
		d.Logger.Error("dispatcher: attempt not recorded; it stays due", "delivery", e.DeliveryID, "webhook", e.WebhookID, "sent", out.sent, "err", err)
	}
	if !out.notDueUntil.IsZero() {
		d.Logger.Debug("dispatcher: attempt not yet due; skipped", "delivery", e.DeliveryID, "webhook", e.WebhookID, "due", out.notDueUntil)
	}
	d.finish(l, e.DeliveryID, out, err)
}

// attemptOnce loads the delivery and its message, sends, and appends the
// attempt with its outcome (and, for a first attempt, the scheduling) in
// one append at the delivery's expected revision, through the shared
// command path. On a lost race it reads the stream again: when another
// instance recorded an attempt meanwhile, ours is not recorded twice;
// otherwise ours is recorded on the fresh state, never sent again. When
// due is set (lane attempts), an attempt the stream shows not yet due is
// skipped, whatever the due index said.
func (d *Dispatcher) attemptOnce(ctx context.Context, view app.WebhookView, e due.DueEntry, due bool) (attempted, error) {
	var out attempted
	var sentAt int // the delivery's attempt count when this call sent
	var now time.Time
	decide := func(stored domain.DeliveryState) ([]eventstore.Event, error) {
		schedule, s, err := scheduleFirst(stored, e, d.Now())
		if err != nil {
			return nil, err
		}
		if s.Final() || (out.sent && s.Attempts != sentAt) {
			return nil, nil // finished, or recorded by another instance: the index will catch up
		}
		if !out.sent {
			if due && !s.Due(d.Now()) {
				out.notDueUntil = s.NextAttemptAt
				return nil, nil
			}
			if due && !d.owns(e.WebhookID) {
				return nil, nil // the lease lapsed since the lane was examined
			}
			if now, err = d.send(ctx, view, e, due, &out); err != nil || !out.sent {
				return nil, err // not sent: the lease lapsed at the last moment
			}
			sentAt = s.Attempts
		}
		return domain.DecideDelivery(stored, domain.RecordAttempt{
			Outcome: out.res.Outcome, Latency: out.res.Latency, ErrorMessage: out.res.ErrorMessage,
			ResponseExcerpt: out.res.Excerpt, RequestHeaders: out.res.RequestHeaders, Rand: d.Rand(),
			Policy: view.RetryPolicy(d.RetryPolicy), BatchID: out.batchID, BatchSize: out.batchSize,
			Schedule: schedule,
		}, now)
	}
	var opts []aggregate.Option
	if snap := e.Snapshot; snap != nil && snap.State.ID == e.DeliveryID {
		// A retry: read only what the stream gained since the entry was filed.
		opts = append(opts, aggregate.FromSnapshot(snap.State, snap.State.Version, snap.Position))
	}
	_, res, err := aggregate.Handle(ctx, d.Store, d.Codec, domain.DeliveryStream(e.DeliveryID), domain.EvolveDelivery, decide, opts...)
	out.seen = res.Position
	if err != nil || !res.Appended() {
		return out, err
	}
	out.recorded = res.Append.Position
	out.verdict = d.observe(ctx, view, e, out.res, res.Events)
	return out, nil
}

// scheduleFirst is the scheduling of a delivery the stream does not hold
// yet (its first attempt), for the attempt's event to open the stream
// with, and the state with it folded in, for the checks before the send;
// nil and s itself when the delivery exists.
func scheduleFirst(s domain.DeliveryState, e due.DueEntry, now time.Time) (*domain.ScheduleDelivery, domain.DeliveryState, error) {
	if s.Exists() {
		return nil, s, nil
	}
	schedule := &domain.ScheduleDelivery{
		DeliveryID: e.DeliveryID, MessageID: e.MessageID, WebhookID: e.WebhookID, AccountID: e.AccountID,
		EventType: e.EventType, Test: e.Test, DueAt: e.DueAt,
	}
	scheduled, err := domain.DecideDelivery(s, *schedule, now)
	for _, ev := range scheduled {
		s = domain.EvolveDelivery(s, ev)
	}
	return schedule, s, err
}

// send makes the HTTP request of an attempt and returns when it was made.
// A lane attempt (fenced) goes out only if the instance still owns the
// webhook once the request is built; out.sent tells whether it did.
func (d *Dispatcher) send(ctx context.Context, view app.WebhookView, e due.DueEntry, fenced bool, out *attempted) (time.Time, error) {
	body, err := d.body(ctx, e.MessageID, view.BodyFormat)
	if err != nil {
		return time.Time{}, err
	}
	webhookID, batchSize := e.MessageID, 0
	if view.Batching.On() {
		// A batched webhook's receiver reads arrays: a test send is a
		// batch of one (batch.go).
		body = append(append([]byte{'['}, bytes.TrimSpace(body)...), ']')
		webhookID, batchSize = domain.BatchID([]string{e.DeliveryID}), 1
		out.batchID, out.batchSize = webhookID, batchSize
	}
	now := d.Now()
	ctx, span, traceparent := d.traceAttempt(ctx, view, e)
	out.res = d.Sender.Send(ctx, Request{
		URL: view.URL, MessageID: webhookID, Timestamp: now, Body: body, BatchSize: batchSize,
		Secrets: view.SigningSecrets(now), Headers: view.Headers, Test: e.Test,
		ContentType: view.BodyFormat.ContentType(), Timeout: view.Retry.AttemptTimeout(), Traceparent: traceparent,
		MayStart: d.mayStart(fenced, view.ID),
	})
	endAttemptSpan(span, out.res)
	out.sent = !out.res.NotSent
	return now, nil
}

// mayStart is the last-moment ownership check of a fenced send; nil (no
// check) for test sends, which no lane makes.
func (d *Dispatcher) mayStart(fenced bool, webhookID string) func() bool {
	if !fenced || d.Owner == nil {
		return nil
	}
	return func() bool { return d.owns(webhookID) }
}

// observe reports metrics and takes the webhook-level consequences of an
// attempt: 410 Gone, or five days of nothing but failures, disables it.
func (d *Dispatcher) observe(ctx context.Context, view app.WebhookView, e due.DueEntry, res Result, decided []eventstore.Event) domain.RetryDecision {
	var verdict domain.RetryDecision
	for _, ev := range decided {
		for _, part := range domain.DeliveryEventParts(ev) {
			switch part := part.(type) {
			case domain.DeliverySucceeded:
				verdict.Result = domain.ResultSucceeded
			case domain.DeliveryRetryScheduled:
				verdict.Result, verdict.SlowDown = domain.ResultRetry, part.SlowDown
			case domain.DeliveryFailed:
				verdict.Result = domain.ResultFailed
				if part.DisablesWebhook {
					d.disable(ctx, view.ID, "the endpoint answered 410 Gone")
				}
			}
		}
	}
	d.Metrics.attempted(view.ID, verdict.Result, res)
	if verdict.Result != domain.ResultSucceeded && !e.Test {
		h, err := d.Due.Health(view.ID)
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

// body returns the request body of a message in format f: from the cache
// when another webhook's attempt read it recently, else from the store.
func (d *Dispatcher) body(ctx context.Context, messageID string, f domain.BodyFormat) ([]byte, error) {
	key := messageID
	if f == domain.BodyFormatForm {
		key += "\x00form"
	}
	if body, ok := d.bodies.get(key); ok {
		return body, nil
	}
	msg, err := d.loadMessage(ctx, messageID)
	if err != nil {
		return nil, err
	}
	body, err := msg.DeliveryBodyAs(f)
	if err != nil {
		return nil, err
	}
	d.bodies.put(key, body)
	return body, nil
}

func (d *Dispatcher) loadMessage(ctx context.Context, id string) (domain.MessagePublished, error) {
	if m, ok := d.messages.get(id); ok {
		return m, nil
	}
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

// Payload is the JSON body every delivery carries (domain.DeliveryPayload);
// receivers written in Go decode into it.
type Payload = domain.DeliveryPayload
