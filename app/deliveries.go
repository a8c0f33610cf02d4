package app

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// TestSender sends a test message to one webhook at once and reports the
// attempt. delivery.Dispatcher is one.
type TestSender interface {
	SendTest(ctx context.Context, webhook webhooks.WebhookView, msg domain.MessagePublished) (TestResult, error)
}

// TestResult is the outcome of a test delivery.
type TestResult struct {
	DeliveryID      string
	Position        eventstore.Position
	Succeeded       bool
	StatusCode      int
	ErrorClass      string
	ErrorMessage    string
	Latency         time.Duration
	ResponseExcerpt string
	// PassesFilter tells whether the event sent passes the webhook's
	// payload filter, that is, whether it would be delivered if published.
	PassesFilter bool
}

// DisableWebhook disables a webhook on webhookd's own initiative, such as
// after a 410 Gone. It is not on behalf of a caller, so no tenancy check.
//
// The account hears of it as an operational event: the operational
// reactor turns the webhook.disabled.v1 fact into a webhook.disabled
// message for whichever of its other webhooks subscribe to that type.
func (a *App) DisableWebhook(ctx context.Context, webhookID, reason string) error {
	_, err := a.webhookCommand(ctx, webhookID, nil, nil, domain.DisableWebhook{Reason: reason})
	return err
}

// TestWebhook sends one event of eventType to a webhook now: the type's
// sample payload, or payload when given. Only a webhook whose URL is
// verified can be tested, as only verified URLs receive anything.
func (a *App) TestWebhook(ctx context.Context, p Principal, id, eventType string, payload json.RawMessage) (TestResult, error) {
	view, err := a.Webhook(ctx, p, id)
	if err != nil {
		return TestResult{}, err
	}
	if view.Verification.Status != domain.VerificationVerified {
		return TestResult{}, domain.FieldErrorf(domain.EINVALID, "webhook", "verify the webhook's URL before sending it test events")
	}
	t, ok := a.Catalogue.Lookup(eventType)
	if !ok {
		return TestResult{}, domain.FieldErrorf(domain.EINVALID, "type", "unknown event type %q", eventType)
	}
	data := json.RawMessage(t.Sample)
	if len(payload) > 0 {
		if len(payload) > MaxEventDataSize {
			return TestResult{}, domain.FieldErrorf(domain.ETOOLARGE, "payload", "payload is %d bytes; the limit is %d", len(payload), MaxEventDataSize)
		}
		if !json.Valid(payload) {
			return TestResult{}, domain.FieldErrorf(domain.EINVALID, "payload", "payload must be valid JSON")
		}
		data = payload
	}
	msg := domain.MessagePublished{
		MessageID: uuid.Must(uuid.NewV7()).String(), AccountID: p.AccountID, Type: eventType, Data: data,
		PublishedAt: a.Now(), TestWebhookID: id,
	}
	if _, err := a.appendEvents(ctx, domain.MessageStream(msg.MessageID), eventstore.NoStream, msg); err != nil {
		return TestResult{}, err
	}
	res, err := a.Tester.SendTest(ctx, view, msg)
	if err != nil {
		return res, err
	}
	res.PassesFilter = view.PassesFilter(data)
	if a.Waiter != nil && res.Position != 0 {
		err = a.Waiter.WaitFor(ctx, res.Position)
	}
	return res, err
}

// CheckResult is "Check now"'s answer for one webhook.
type CheckResult struct {
	Webhook webhooks.WebhookView
	Result  TestResult
	// Err is why the webhook could not be tested (not verified, say).
	Err error
}

// maxCheck bounds how many webhooks one "Check now" tests.
const maxCheck = 100

// CheckWebhooks tests every webhook of the account at once with a
// webhook.test event and reports per webhook.
func (a *App) CheckWebhooks(ctx context.Context, p Principal) ([]CheckResult, error) {
	page, err := a.Webhooks(ctx, p, webhooks.WebhookFilter{}, maxCheck, "")
	if err != nil {
		return nil, err
	}
	out := make([]CheckResult, len(page.Webhooks))
	var wg sync.WaitGroup
	for i, w := range page.Webhooks {
		out[i].Webhook = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].Result, out[i].Err = a.TestWebhook(ctx, p, w.ID, "webhook.test", nil)
		}()
	}
	wg.Wait()
	return out, nil
}

// Redeliver sends a finished delivery again, with a fresh retry schedule,
// and returns once the read models show it pending.
func (a *App) Redeliver(ctx context.Context, p Principal, deliveryID string) error {
	return a.redeliver(ctx, p, deliveryID, true)
}

func (a *App) redeliver(ctx context.Context, p Principal, deliveryID string, wait bool) error {
	decide := func(s domain.DeliveryState) ([]eventstore.Event, error) {
		if !s.Exists() || s.AccountID != p.AccountID {
			return nil, errDeliveryNotFound
		}
		return domain.DecideDelivery(s, domain.RequestRedelivery{}, a.Now())
	}
	_, err := handle(ctx, a, domain.DeliveryStream(deliveryID), domain.EvolveDelivery, decide, wait)
	return err
}
