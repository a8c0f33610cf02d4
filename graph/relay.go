package graph

import (
	"context"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// relay turns broker changes into a subscription's channel. The producer
// owns and closes the channel, selects on ctx at every send, and ends when
// the broker drops a subscriber that fell behind (the client reconnects and
// reloads), so it never blocks the projection that publishes. It also ends
// once valid reports the caller's key revoked or expired: a subscription
// must not outlive its credentials.
func relay[T any](ctx context.Context, changes <-chan app.Change, cancel func(), valid func() bool, load func(app.Change) (T, bool)) <-chan T {
	out := make(chan T, 1)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case c, ok := <-changes:
				if !ok || !valid() {
					return
				}
				v, ok := load(c)
				if !ok {
					continue
				}
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// subscribe opens a broker subscription to topic for the caller's account,
// narrowed to one of its webhooks when gid is set (field names the
// argument in errors). Another account's webhook is not found.
func (r *subscriptionResolver) subscribe(ctx context.Context, topic, field string, gid *string) (app.Principal, <-chan app.Change, func(), error) {
	p, err := principal(ctx)
	if err != nil {
		return p, nil, nil, err
	}
	var id string
	if gid != nil {
		var ok bool
		if id, ok = webhookID(*gid); !ok {
			return p, nil, nil, domain.FieldErrorf(domain.ENOTFOUND, field, "webhook not found")
		}
	}
	changes, cancel, err := r.App.Subscribe(ctx, p, topic, id)
	return p, changes, cancel, err
}
