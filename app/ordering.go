package app

import (
	"context"
	"fmt"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// BlockedLine is a line of an ordered webhook held up by its head, a
// delivery that failed and waits for its retry: head-of-line blocking,
// which the UI shows so the account holder sees why nothing else arrives.
type BlockedLine struct {
	Key           string
	Head          DeliveryView
	Waiting       int
	NextAttemptAt time.Time
	Reason        string
}

// maxReason bounds the reason shown for a blocked line.
const maxReason = 200

// BlockedLines returns up to first of the webhook's blocked lines; none
// for an unordered webhook.
func (a *App) BlockedLines(ctx context.Context, p Principal, webhookID string, first int) ([]BlockedLine, error) {
	view, err := a.Webhook(ctx, p, webhookID)
	if err != nil || !view.Ordering.Ordered() {
		return nil, err
	}
	lines, err := a.Read.OrderedLines(webhookID, view.Ordering.Mode == domain.OrderingPerWebhook)
	if err != nil {
		return nil, fmt.Errorf("ordered lines of %s: %w", webhookID, err)
	}
	var out []BlockedLine
	for _, l := range lines {
		if !l.Head.Retry || len(out) >= first {
			continue // a head not yet tried blocks nothing
		}
		d, ok, err := a.Read.Delivery(p.AccountID, l.Head.DeliveryID)
		if err != nil {
			return nil, fmt.Errorf("head of line %q: %w", l.Key, err)
		}
		if !ok {
			continue
		}
		if d.Attempts, err = a.Read.AttemptLog(d); err != nil {
			return nil, fmt.Errorf("head of line %q: %w", l.Key, err)
		}
		out = append(out, BlockedLine{Key: l.Key, Head: d, Waiting: l.Waiting, NextAttemptAt: l.Head.DueAt, Reason: failureReason(d)})
	}
	return out, nil
}

// failureReason says why the delivery's last attempt failed.
func failureReason(d DeliveryView) string {
	if len(d.Attempts) == 0 {
		return "redelivery requested"
	}
	last := d.Attempts[len(d.Attempts)-1]
	reason := last.ErrorClass + ": " + last.ErrorMessage
	if last.StatusCode != 0 {
		reason = fmt.Sprintf("HTTP %d", last.StatusCode)
		if last.ResponseExcerpt != "" {
			reason += ": " + last.ResponseExcerpt
		}
	}
	if len(reason) > maxReason {
		reason = reason[:maxReason] + "…"
	}
	return reason
}
