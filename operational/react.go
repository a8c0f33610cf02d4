package operational

import (
	"context"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// reaction is what one log event calls for: a message to publish (when
// publish is set) and a change of the health watch, applied only once the
// message is published, so an event retried after a refused publish is
// decided on the same watch.
type reaction struct {
	msg     domain.OperationalMessage
	publish bool
	apply   func(h *domain.HealthWatch) bool
}

// react decides what one log event calls for. Each message's key is the
// ID of the log event that triggered it.
func (r *Reactor) react(ctx context.Context, rec eventstore.RecordedEvent, ev eventstore.Event) (reaction, error) {
	if recorded, ok := ev.(domain.DeliveryAttemptRecorded); ok {
		ev = recorded.Outcome() // an attempt's one event: react to what it decided
	}
	switch e := ev.(type) {
	case domain.WebhookDisabled:
		w, err := r.webhook(ctx, e.WebhookID)
		if err != nil || !w.Exists() {
			return reaction{}, err
		}
		return reaction{msg: domain.DisabledMessage(w, e, rec.ID), publish: true}, nil
	case domain.WebhookVerificationFailed:
		w, err := r.webhook(ctx, e.WebhookID)
		if err != nil || !w.Exists() {
			return reaction{}, err
		}
		return reaction{msg: domain.VerificationFailedMessage(w, e, rec.ID), publish: true}, nil
	case domain.WebhookDeleted:
		return reaction{apply: func(h *domain.HealthWatch) bool { return h.Forget(e.WebhookID) }}, nil
	case domain.DeliveryRetryScheduled:
		// Test sends get one attempt and never retry, so this is a real
		// delivery failing.
		return reaction{apply: func(h *domain.HealthWatch) bool { return h.Failed(e.WebhookID, e.At) }}, nil
	case domain.DeliveryFailed:
		return r.deliveryFailed(ctx, rec, e)
	case domain.DeliverySucceeded:
		if _, failing := r.health.Failing(e.WebhookID); !failing {
			return reaction{}, nil // the common case: nothing to read
		}
		return r.recovered(ctx, rec, e)
	}
	return reaction{}, nil
}

func (r *Reactor) deliveryFailed(ctx context.Context, rec eventstore.RecordedEvent, e domain.DeliveryFailed) (reaction, error) {
	if e.Test {
		return reaction{}, nil // a test send's failure is reported to whoever sent it
	}
	d, err := r.deliveryFacts(ctx, e)
	if err != nil || d.ID == "" || d.Test {
		return reaction{}, err
	}
	failed := func(h *domain.HealthWatch) bool { return h.Failed(e.WebhookID, e.At) }
	w, err := r.webhook(ctx, e.WebhookID)
	if err != nil || !w.Exists() {
		return reaction{apply: failed}, err
	}
	m, ok := domain.DeliveryFailedMessage(w, d, e, rec.ID, r.Operational)
	return reaction{msg: m, publish: ok, apply: failed}, nil
}

func (r *Reactor) recovered(ctx context.Context, rec eventstore.RecordedEvent, e domain.DeliverySucceeded) (reaction, error) {
	if e.Test {
		return reaction{}, nil // a test send proves nothing about the queue
	}
	w, err := r.webhook(ctx, e.WebhookID)
	if err != nil {
		return reaction{}, err
	}
	since, _ := r.health.Failing(e.WebhookID)
	succeeded := func(h *domain.HealthWatch) bool { _, ok := h.Succeeded(e.WebhookID); return ok }
	if !w.Exists() {
		return reaction{apply: succeeded}, nil
	}
	return reaction{msg: domain.RecoveredMessage(w, since, e.At, rec.ID), publish: true, apply: succeeded}, nil
}
