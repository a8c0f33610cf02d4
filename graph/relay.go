package graph

import (
	"context"

	"github.com/webhookd/webhookd/projections"
)

// relay turns broker changes into a subscription's channel. The producer
// owns and closes the channel, selects on ctx at every send, and ends when
// the broker drops a subscriber that fell behind (the client reconnects and
// reloads), so it never blocks the projection that publishes. It also ends
// once valid reports the caller's key revoked or expired: a subscription
// must not outlive its credentials.
func relay[T any](ctx context.Context, changes <-chan projections.Change, cancel func(), valid func() bool, load func(projections.Change) (T, bool)) <-chan T {
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
