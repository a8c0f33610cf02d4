package due

import (
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/jsoncodec"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/deliveries"
)

var _ projections.Pruner = Due{}

// Prune implements projections.Pruner. Owed work is dropped only when the
// log no longer holds what it needs: an attempt of a delivery created
// before the younger of the message and delivery cutoffs, whose message
// (the body to send) or scheduling is gone. The 7-day retention floor
// outlasts every retry schedule, so only work held back past it (a webhook
// paused or disabled for longer than retention) is affected; a rebuild
// could not bring it back either, so keeping it would make the live index
// disagree with the log. It runs before the deliveries' prune (readmodels
// order), which it reads for the creation time.
func (Due) Prune(tx *bbolt.Tx, r projections.Retention, now time.Time, limit int) (int, error) {
	cutoff, ok := r.Cutoff(now, domain.MessageStreamCategory, domain.DeliveryStreamCategory)
	if !ok {
		return 0, nil
	}
	var victims []string
	err := tx.Bucket(bucketDue).ForEach(func(_, v []byte) error {
		if len(victims) == limit {
			return nil
		}
		var e DueEntry
		if err := jsoncodec.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("due entry: %w", err)
		}
		if created, ok := createdAt(tx, e.DeliveryID); ok && created.Before(cutoff) {
			victims = append(victims, e.DeliveryID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range victims {
		if err := deleteDue(tx, nil, id); err != nil {
			return 0, fmt.Errorf("drop due %s: %w", id, err)
		}
	}
	return len(victims), nil
}

// createdAt reads a delivery's creation time from the deliveries read
// model, which lists every delivery the due index owes.
func createdAt(tx *bbolt.Tx, deliveryID string) (time.Time, bool) {
	d, found, err := deliveries.Summary(tx, deliveryID)
	if err != nil || !found || d.CreatedAt.IsZero() {
		return time.Time{}, false
	}
	return d.CreatedAt, true
}
