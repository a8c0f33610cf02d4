package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// ExportQuery selects what ExportDeliveries walks and whether each
// delivery carries its message.
type ExportQuery struct {
	DeliveryRange
	// WithMessage reads each delivery's published message, so a receiver
	// that pulls instead of being pushed gets the events' content. It costs
	// one store read per delivery, hence opt-in.
	WithMessage bool
}

// ExportedDelivery is one delivery of an export. Message is set when the
// query asked for it and the message is still in the log.
type ExportedDelivery struct {
	DeliveryView
	Message *domain.MessagePublished
}

// ExportDeliveries calls fn with each delivery of the principal's webhook
// id that q selects, oldest first, streaming rather than collecting them.
// Another account's webhook is not found, exactly like a missing one.
func (a *App) ExportDeliveries(ctx context.Context, p Principal, id string, q ExportQuery, fn func(ExportedDelivery) error) error {
	if _, err := a.Webhook(ctx, p, id); err != nil {
		return err
	}
	return a.Read.EachDelivery(p.AccountID, id, q.DeliveryRange, func(v DeliveryView) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		row := ExportedDelivery{DeliveryView: v}
		if q.WithMessage {
			m, err := a.publishedMessage(ctx, v.MessageID)
			if err != nil {
				return err
			}
			if m.MessageID != "" && m.AccountID == p.AccountID {
				row.Message = &m
			}
		}
		return fn(row)
	})
}

// publishedMessage reads the event that starts message id's stream; the
// zero value means the message is no longer in the log.
func (a *App) publishedMessage(ctx context.Context, id string) (domain.MessagePublished, error) {
	stream := domain.MessageStream(id)
	recs, err := a.Store.ReadStream(ctx, stream, 0, 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && len(recs) == 0) {
		return domain.MessagePublished{}, nil
	}
	if err != nil {
		return domain.MessagePublished{}, fmt.Errorf("read %s: %w", stream, err)
	}
	ev, err := a.Codec.Decode(recs[0])
	if err != nil {
		return domain.MessagePublished{}, fmt.Errorf("decode %s@0: %w", stream, err)
	}
	m, _ := ev.(domain.MessagePublished)
	return m, nil
}
