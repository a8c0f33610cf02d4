package delivery

import (
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/due"
)

// owed returns up to limit of the webhook's attempts that may start now,
// oldest first, and when the first one held back falls due (zero: none,
// or only a finishing attempt frees the next).
//
// An unordered webhook may start whatever is due. An ordered one is the
// gate of ordered delivery: only the head of each line (the oldest owed
// delivery of the webhook, or of its key) may start, and only when it is
// due and not in flight. A head that failed keeps its place until it
// succeeds or finally fails, so its retries hold the line. The lines live
// in the due index, on disk, so the order holds across restarts; and only
// the owning instance dispatches a webhook, so it holds across instances.
func (d *Dispatcher) owed(id string, view app.WebhookView, now time.Time, limit int) ([]due.DueEntry, time.Time, error) {
	if !view.Ordering.Ordered() {
		return d.Due.For(id, now, limit, d.isInFlight)
	}
	lines, err := d.Due.Lines(id, view.Ordering.Mode == domain.OrderingPerWebhook, false, 0)
	if err != nil {
		return nil, time.Time{}, err
	}
	var entries []due.DueEntry
	var next time.Time
	for _, l := range lines {
		h := l.Head
		switch {
		case d.isInFlight(h.DeliveryID):
			// the line waits; the attempt's finish wakes the lane
		case h.DueAt.After(now) || len(entries) >= limit:
			if next.IsZero() || h.DueAt.Before(next) {
				next = h.DueAt
			}
		default:
			entries = append(entries, h)
		}
	}
	return entries, next, nil
}

// headFinished reports whether the change records an attempt of an
// ordered webhook. The due index publishes no change when a delivery
// leaves it (succeeded or finally failed), and the lane of an unordered
// webhook does not need one: it started the others meanwhile. An ordered
// lane waits for exactly that, so the record wakes it to start the next
// head. It asks the ordered flag kept for as long as the dispatcher runs,
// not the view cache: an attempt may outlast a cached view, and a missed
// record would stall the line for good. d.mu is held.
func (d *Dispatcher) headFinished(c projections.Change) bool {
	if c.Topic != app.TopicWebhookDeliveries {
		return false
	}
	return d.ordered[c.ID]
}
