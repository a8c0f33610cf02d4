// Package projections builds webhookd's queryable state from the event log.
// Each projection folds events into buckets of one bbolt read-model file; the
// Runner feeds them in batches and stores the checkpoint in the same
// transaction as the changes, so a crash never applies an event twice or
// skips one. Read models can always be rebuilt from the log.
//
// This package is the machinery: the Projection and Change interfaces, the
// Runner (batches, checkpoint, catch-up, rebuild), its supervision and lag.
// The read models are subpackages, one per concept (listed in
// projections/readmodels); fan-out is projections/fanout; the live-change
// broker is projections/live.
package projections

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/eventstore"
)

// Projection folds events into its own buckets.
type Projection interface {
	// Name identifies the projection in logs and metrics.
	Name() string
	// Buckets lists the top-level buckets the projection owns. The runner
	// creates them before the first Apply and deletes them on rebuild.
	Buckets() []string
	// Apply folds one event into the read model inside tx. ev is the
	// decoded event (nil when the codec does not know the type). Returned
	// changes are published once the transaction commits.
	Apply(tx *bbolt.Tx, rec eventstore.RecordedEvent, ev eventstore.Event) ([]Change, error)
}

// Batcher is implemented by projections that fold a batch in memory and
// write their changes once per batch. The runner calls BeginBatch before
// the batch's first event and FlushBatch before committing it.
type Batcher interface {
	BeginBatch()
	FlushBatch(tx *bbolt.Tx) error
}

// Change names a read-model object that an event changed, so live
// subscribers can reload it after the commit.
type Change struct {
	// Topic is the kind of object, such as "webhook" or "delivery".
	Topic string
	// Account owns the object; subscribers never see other accounts'.
	Account string
	// ID is the object's id within its kind.
	ID string
	// Ref is a related object's id, when the topic groups objects under
	// another: the delivery of a "webhook-deliveries" change.
	Ref string
	// Position is the log position of the event that changed it.
	Position eventstore.Position
	// What says what the event changed, where subscribers need to tell
	// two messages about one object apart (deliveries: DeliveryListed and
	// the others); zero elsewhere.
	What ChangeWhat
}

// ChangeWhat is what an event changed about an object. Subscribers reload
// the object a change names, so two changes applied in one batch show the
// same state: without it they would be two identical messages.
type ChangeWhat uint8
