package app

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
)

// handle runs one command through the shared command path (load and fold,
// decide, append at the expected revision, decide again after a lost race)
// and, when wait is set and something was appended, waits until the read
// models have applied it, so the caller reads its own writes.
func handle[S any](ctx context.Context, a *App, stream string, evolve func(S, eventstore.Event) S,
	decide func(S) ([]eventstore.Event, error), wait bool, opts ...aggregate.Option) (S, error) {
	s, res, err := aggregate.Handle(ctx, a.Store, a.Codec, stream, evolve, decide, opts...)
	if err != nil || !wait || !res.Appended() || a.Waiter == nil {
		return s, err
	}
	return s, a.Waiter.WaitFor(ctx, res.Position)
}

// loadEvents reads and decodes a whole stream. A missing stream is empty.
func (a *App) loadEvents(ctx context.Context, stream string) ([]eventstore.Event, error) {
	events, _, err := aggregate.Load(ctx, a.Store, a.Codec, stream, func(events []eventstore.Event, e eventstore.Event) []eventstore.Event {
		return append(events, e)
	})
	return events, err
}

// webhookCommand loads webhook id, lets check refuse it (tenancy), decides
// cmd and appends the result. When expectedRevision is set the caller's
// view must be current; otherwise a lost race is retried on fresh state.
func (a *App) webhookCommand(ctx context.Context, id string, expectedRevision *uint64, check func(domain.WebhookState) error, cmd domain.WebhookCommand) (domain.WebhookState, error) {
	var opts []aggregate.Option
	if expectedRevision != nil {
		opts = append(opts, aggregate.Expect(eventstore.Exact(*expectedRevision)))
	}
	decide := func(s domain.WebhookState) ([]eventstore.Event, error) {
		if check != nil {
			if err := check(s); err != nil {
				return nil, err
			}
		}
		if expectedRevision != nil && (s.Version == 0 || s.Version-1 != *expectedRevision) {
			return nil, staleRevision(*expectedRevision, s)
		}
		return domain.DecideWebhook(s, cmd, a.Now(), a.Catalogue.Known)
	}
	s, err := handle(ctx, a, domain.WebhookStream(id), domain.EvolveWebhook, decide, true, opts...)
	if eventstore.IsWrongExpectedVersion(err) {
		return domain.WebhookState{}, domain.Errorf(domain.ECONFLICT, "the webhook was changed concurrently; reload it and try again")
	}
	if err != nil {
		return domain.WebhookState{}, err
	}
	return s, nil
}

func staleRevision(expected uint64, s domain.WebhookState) error {
	return &domain.Error{
		Code: domain.ECONFLICT, Field: "expectedRevision",
		Message: fmt.Sprintf("the webhook is at revision %d, not %d; reload it and try again", s.Version-1, expected),
	}
}
