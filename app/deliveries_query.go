package app

import (
	"context"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/projections/deliveries"
)

var errDeliveryNotFound = domain.FieldErrorf(domain.ENOTFOUND, "delivery", "delivery not found")

// Deliveries pages through one of the principal's webhooks' deliveries. A
// webhook of another account lists as not found.
func (a *App) Deliveries(ctx context.Context, p Principal, webhookID string, f deliveries.DeliveryFilter, first int, after string) (deliveries.DeliveryPage, error) {
	if _, err := a.Webhook(ctx, p, webhookID); err != nil {
		return deliveries.DeliveryPage{}, err
	}
	return a.Read.Deliveries(p.AccountID, webhookID, f, first, after)
}

// Delivery returns one of the principal's deliveries with its attempts.
func (a *App) Delivery(ctx context.Context, p Principal, id string) (deliveries.DeliveryView, error) {
	v, ok, err := a.Read.Delivery(p.AccountID, id)
	if err != nil {
		return v, err
	}
	if !ok {
		return v, errDeliveryNotFound
	}
	return v, nil
}

// DeliveryAttempts is the attempt log of delivery v, a summary this
// principal was given: read from the delivery's stream, so only when a
// caller needs it.
func (a *App) DeliveryAttempts(ctx context.Context, p Principal, v DeliveryView) ([]AttemptView, error) {
	if v.AccountID != p.AccountID {
		return nil, errDeliveryNotFound
	}
	return a.Read.AttemptLog(v)
}

// Stats summarises a webhook's attempts over the window ending now.
func (a *App) Stats(ctx context.Context, p Principal, webhookID string, window time.Duration) (deliveries.StatsView, error) {
	if _, err := a.Webhook(ctx, p, webhookID); err != nil {
		return deliveries.StatsView{}, err
	}
	now := a.Now()
	return a.Read.Stats(p.AccountID, webhookID, now.Add(-window), now.Add(time.Minute))
}

// maxRecover bounds one recoverDeliveries call; the caller repeats it for
// more (each call only picks deliveries that are still failed).
const maxRecover = 10000

// RecoverDeliveries redelivers every delivery of the webhook that failed
// and was created since since. It returns how many it sent again.
func (a *App) RecoverDeliveries(ctx context.Context, p Principal, webhookID string, since time.Time) (int, error) {
	if _, err := a.Webhook(ctx, p, webhookID); err != nil {
		return 0, err
	}
	count, after := 0, ""
	for count < maxRecover {
		page, err := a.Read.Deliveries(p.AccountID, webhookID,
			deliveries.DeliveryFilter{Status: string(domain.DeliveryStatusFailed), Since: since}, 100, after)
		if err != nil {
			return count, err
		}
		for _, d := range page.Deliveries {
			err := a.redeliver(ctx, p, d.ID, false)
			if domain.ErrorCode(err) == domain.EINVALID {
				continue // redelivered meanwhile
			}
			if err != nil {
				return count, err
			}
			count++
		}
		if !page.HasNextPage {
			break
		}
		after = page.Cursors[len(page.Cursors)-1]
	}
	return count, nil
}
