package app

import (
	"context"
	"fmt"

	"github.com/webhookd/webhookd/domain"
)

// Message returns a message published for the caller's account, so the
// delivery log can show the request body built from it. Another account's
// message is not found, exactly like a missing one.
func (a *App) Message(ctx context.Context, p Principal, id string) (domain.MessagePublished, error) {
	m, ok, err := a.readMessage(ctx, id)
	if err != nil {
		return domain.MessagePublished{}, fmt.Errorf("read message %s: %w", id, err)
	}
	if !ok || m.AccountID != p.AccountID {
		return domain.MessagePublished{}, domain.Errorf(domain.ENOTFOUND, "message not found")
	}
	return m, nil
}
