package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// conflictRetries is how often a command without a caller-given revision is
// re-decided after losing a race. Losing this many times in a row means
// heavy contention on one aggregate; the caller then sees CONFLICT.
const conflictRetries = 5

// loadEvents reads and decodes a whole stream. A missing stream is empty.
func (a *App) loadEvents(ctx context.Context, stream string) ([]eventstore.Event, error) {
	var events []eventstore.Event
	for from := uint64(0); ; {
		recs, err := a.Store.ReadStream(ctx, stream, from, 1000)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		for _, r := range recs {
			ev, err := a.Codec.Decode(r)
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
		if len(recs) < 1000 {
			return events, nil
		}
		from = recs[len(recs)-1].Revision + 1
	}
}

// appendAndWait appends events at expected and waits until the read models
// have applied them. It returns the append's result.
func (a *App) appendAndWait(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.Event) (eventstore.AppendResult, error) {
	res, err := a.appendEvents(ctx, stream, expected, events...)
	if err != nil {
		return res, err
	}
	if a.Waiter != nil {
		if err := a.Waiter.WaitFor(ctx, res.Position); err != nil {
			return res, err
		}
	}
	return res, nil
}

// webhookCommand loads webhook id, lets check refuse it (tenancy), decides
// cmd and appends the result. When expectedRevision is set the caller's
// view must be current; otherwise a lost race is retried on fresh state.
func (a *App) webhookCommand(ctx context.Context, id string, expectedRevision *uint64, check func(domain.WebhookState) error, cmd domain.WebhookCommand) (domain.WebhookState, error) {
	stream := domain.WebhookStream(id)
	for attempt := 0; ; attempt++ {
		events, err := a.loadEvents(ctx, stream)
		if err != nil {
			return domain.WebhookState{}, err
		}
		state := domain.FoldWebhook(events)
		if check != nil {
			if err := check(state); err != nil {
				return domain.WebhookState{}, err
			}
		}
		expected := state.ExpectedRevision()
		if expectedRevision != nil {
			if state.Version == 0 || state.Version-1 != *expectedRevision {
				return domain.WebhookState{}, staleRevision(*expectedRevision, state)
			}
			expected = eventstore.Exact(*expectedRevision)
		}
		decided, err := domain.DecideWebhook(state, cmd, a.Now(), a.Catalogue.Known)
		if err != nil {
			return domain.WebhookState{}, err
		}
		if len(decided) == 0 {
			return state, nil
		}
		_, err = a.appendAndWait(ctx, stream, expected, decided)
		if eventstore.IsWrongExpectedVersion(err) {
			if expectedRevision != nil || attempt >= conflictRetries {
				return domain.WebhookState{}, domain.Errorf(domain.ECONFLICT, "the webhook was changed concurrently; reload it and try again")
			}
			continue
		}
		if err != nil {
			return domain.WebhookState{}, err
		}
		for _, e := range decided {
			state = domain.EvolveWebhook(state, e)
		}
		return state, nil
	}
}

func staleRevision(expected uint64, s domain.WebhookState) error {
	return &domain.Error{
		Code: domain.ECONFLICT, Field: "expectedRevision",
		Message: fmt.Sprintf("the webhook is at revision %d, not %d; reload it and try again", s.Version-1, expected),
	}
}
