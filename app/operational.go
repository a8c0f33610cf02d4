package app

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// PublishOperational publishes an operational event (domain/operational.go)
// for its account, and reports whether this call appended it. It appends
// nothing when no webhook of the account but the one the event is about
// would receive it, and nothing when the event was published before: its
// message ID comes from its key alone and the append expects no stream,
// so a trigger handled twice (a replay after a crash, or two instances on
// one store) is published once, however far apart the two tries are.
// Unlike a publisher's idempotency key it does not expire after a window.
func (a *App) PublishOperational(ctx context.Context, m domain.OperationalMessage) (bool, error) {
	if !a.Catalogue.Known(m.Type) {
		return false, fmt.Errorf("publish operational event: %q is not in the catalogue", m.Type)
	}
	ok, err := a.Read.Subscribed(m.AccountID, m.Type, m.WebhookID)
	if err != nil || !ok {
		return false, err
	}
	msg, err := m.Published(a.Now())
	if err != nil {
		return false, fmt.Errorf("publish operational event %s: %w", m.Type, err)
	}
	err = a.appendPlanned(ctx, []planned{{msg: msg}})[0]
	switch {
	case err == nil:
		return true, nil
	case eventstore.IsWrongExpectedVersion(err):
		return false, nil
	}
	return false, err
}

// isOperational reports whether eventType is one webhookd publishes itself;
// publishers may not, so a receiver can trust what such events say.
func (a *App) isOperational(eventType string) bool {
	return a.Catalogue.Operational(eventType)
}
