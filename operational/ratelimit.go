package operational

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// RateLimits turns the dispatcher's rate-limit waits into
// webhook.rate_limited events: the dispatcher reports every wait
// (delivery.Dispatcher.RateLimits), domain.RateLimitWatch decides whether
// the limiting is sustained and not reported within the period, and the
// event is published in the background so a lane never waits on it.
type RateLimits struct {
	Publisher Publisher
	Watch     *domain.RateLimitWatch
	Logger    *slog.Logger

	mu sync.Mutex
	wg sync.WaitGroup
}

// NewRateLimits returns a reporter with the watch's defaults.
func NewRateLimits(p Publisher, logger *slog.Logger) *RateLimits {
	return &RateLimits{Publisher: p, Watch: domain.NewRateLimitWatch(), Logger: logger}
}

// RateLimited implements delivery.RateLimitObserver.
func (r *RateLimits) RateLimited(view app.WebhookView, now time.Time) {
	r.mu.Lock()
	report, since := r.Watch.Limited(view.ID, now)
	key := r.Watch.RateLimitKey(view.ID, now)
	r.mu.Unlock()
	if !report {
		return
	}
	msg := domain.RateLimitedMessage(view.WebhookState, since, now, key)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := r.Publisher.PublishOperational(ctx, msg); err != nil && r.Logger != nil {
			r.Logger.Warn("operational events: publish webhook.rate_limited", "webhook", view.ID, "err", err)
		}
	}()
}

// Wait waits for the reports being published.
func (r *RateLimits) Wait() { r.wg.Wait() }
