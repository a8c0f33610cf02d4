package app

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/projections/history"
)

// History pages through the raw events of a subject (a global ID of a
// webhook, the caller's account, a delivery or a message), oldest first.
// ok is false for a subject the caller may not read, which looks exactly
// like one that does not exist. A deleted webhook's history stays readable
// by the account that owned it: audits outlive the webhook.
//
// Webhooks and accounts are read from the history projection, which
// redacts their secrets. Deliveries and messages, by far the most numerous
// streams and holding no secrets, are read from the store itself, so the
// read model does not keep a second copy of every delivery event.
func (a *App) History(ctx context.Context, p Principal, gid string, first int, after string) (history.HistoryPage, bool, error) {
	kind, id, err := domain.DecodeGlobalID(gid)
	if err != nil {
		return history.HistoryPage{}, false, nil
	}
	switch kind {
	case "Webhook":
		owner, err := a.webhookOwner(ctx, id)
		if err != nil || owner != p.AccountID {
			return history.HistoryPage{}, false, err
		}
		page, err := a.Read.History(domain.WebhookStream(id), first, after)
		return page, true, err
	case "Account":
		if id != p.AccountID {
			return history.HistoryPage{}, false, nil
		}
		page, err := a.Read.History(domain.AccountStream(id), first, after)
		return page, true, err
	case "Delivery":
		d, err := a.Delivery(ctx, p, id)
		if err != nil {
			return history.HistoryPage{}, false, nil
		}
		page, err := a.streamHistory(ctx, domain.DeliveryStream(d.ID), first, after)
		return page, true, err
	case "Message":
		m, ok, err := a.readMessage(ctx, id)
		if err != nil || !ok || m.AccountID != p.AccountID {
			return history.HistoryPage{}, false, err
		}
		page, err := a.streamHistory(ctx, domain.MessageStream(id), first, after)
		return page, true, err
	}
	return history.HistoryPage{}, false, nil
}

// webhookOwner returns the account that created webhook id, or "" when no
// such webhook was ever created. Deletion ends a webhook but not its audit
// trail, so ownership is judged from the creation event in the log rather
// than from the read model, which forgets deleted webhooks.
func (a *App) webhookOwner(ctx context.Context, id string) (string, error) {
	stream := domain.WebhookStream(id)
	recs, err := a.Store.ReadStream(ctx, stream, 0, 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && len(recs) == 0) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", stream, err)
	}
	ev, err := a.Codec.Decode(recs[0])
	if err != nil {
		return "", fmt.Errorf("decode %s@0: %w", stream, err)
	}
	created, ok := ev.(domain.WebhookCreated)
	if !ok {
		return "", nil
	}
	return created.AccountID, nil
}

// streamHistory pages through a stream in the store; cursors are revisions.
func (a *App) streamHistory(ctx context.Context, stream string, first int, after string) (history.HistoryPage, error) {
	from := uint64(0)
	if after != "" {
		raw, err := base64.RawURLEncoding.DecodeString(after)
		rev, perr := strconv.ParseUint(string(raw), 10, 64)
		if err != nil || perr != nil {
			return history.HistoryPage{}, domain.FieldErrorf(domain.EINVALID, "after", "the cursor is not one this API issued")
		}
		from = rev + 1
	}
	recs, err := a.Store.ReadStream(ctx, stream, from, first+1)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return history.HistoryPage{}, nil
	}
	if err != nil {
		return history.HistoryPage{}, err
	}
	var page history.HistoryPage
	for i, r := range recs {
		if i == first {
			page.HasNextPage = true
			break
		}
		page.Entries = append(page.Entries, history.HistoryEntry{
			Type: r.Type, Stream: r.Stream, Revision: r.Revision, Position: r.Position, Time: r.Time, Data: r.Data,
		})
		page.Cursors = append(page.Cursors, base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(r.Revision, 10))))
	}
	return page, nil
}
