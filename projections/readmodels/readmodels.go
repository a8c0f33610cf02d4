// Package readmodels lists webhookd's read models, one package each under
// projections/:
//
//   - accounts: accounts, API keys and portal sessions (authentication)
//   - webhooks: webhook detail and per-account listing; keeps fanout's index
//   - fanout: the subscriptions index, which webhooks a message goes to
//   - history: the audit trail of webhook and account streams
//   - due: every owed attempt (first attempts of fanned-out messages,
//     retries, redeliveries), per webhook, for the dispatcher
//   - deliveries: delivery detail and listings, and per-minute attempt stats
//
// It exists so that the runner's package does not import the read models
// (they import it for Projection and Change).
package readmodels

import (
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/accounts"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/history"
	"github.com/webhookd/webhookd/projections/webhooks"
)

// All returns every read-model projection, in the order they are applied:
// webhooks before due and deliveries, whose fan-out reads the
// subscriptions index the webhooks projection keeps.
func All() []projections.Projection {
	return []projections.Projection{accounts.Accounts{}, accounts.PortalSessions{}, webhooks.Webhooks{}, history.History{}, due.New(), &deliveries.Deliveries{}, &deliveries.AttemptStats{}}
}
