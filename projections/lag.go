package projections

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// Lag is what the log holds beyond the checkpoint, as a dispatcher
// starting before the read models have caught up needs to know it.
type Lag struct {
	// Head is the last position in the log when the scan ended.
	Head eventstore.Position
	// Events is how many events lie beyond the checkpoint.
	Events int
	// Deliveries maps each delivery with events beyond the checkpoint to
	// the position of its last one: the due index may still list it as
	// owed although an attempt was recorded.
	Deliveries map[string]eventstore.Position
	// LastWebhookChange is the position of the last webhook event beyond
	// the checkpoint (zero if none): until the read models have applied
	// it, the dispatcher could send with a stale URL, secret or status.
	LastWebhookChange eventstore.Position
}

// ScanLag reads the log after the checkpoint, looking only at stream names
// (no decoding, nothing applied), which costs a small fraction of applying
// the same events.
func (r *Runner) ScanLag(ctx context.Context) (Lag, error) {
	lag := Lag{Head: r.Position(), Deliveries: map[string]eventstore.Position{}}
	for {
		recs, err := r.Store.ReadAll(ctx, lag.Head, catchUpPage)
		if err != nil {
			return lag, fmt.Errorf("projections %s: scan lag after %d: %w", r.Name, lag.Head, err)
		}
		for _, rec := range recs {
			lag.Head, lag.Events = rec.Position, lag.Events+1
			if id, ok := domain.DeliveryIDFromStream(rec.Stream); ok {
				lag.Deliveries[id] = rec.Position
			} else if _, ok := domain.WebhookIDFromStream(rec.Stream); ok {
				lag.LastWebhookChange = rec.Position
			}
		}
		if len(recs) < catchUpPage {
			return lag, nil
		}
	}
}

// Drain waits until the runner has applied everything in the log, so a
// graceful stop leaves no lag for the next start. Call it once nothing
// appends any more; ctx bounds the wait.
func (r *Runner) Drain(ctx context.Context) error {
	for {
		recs, err := r.Store.ReadAll(ctx, r.Position(), 1)
		if err != nil {
			return fmt.Errorf("projections %s: drain: %w", r.Name, err)
		}
		if len(recs) == 0 {
			return nil
		}
		if err := r.WaitFor(ctx, recs[0].Position); err != nil {
			return fmt.Errorf("projections %s: drain: %w", r.Name, err)
		}
	}
}
