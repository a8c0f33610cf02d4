package graph

import (
	"context"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

var statsWindows = map[model.StatsWindow]time.Duration{
	model.StatsWindowHour: time.Hour, model.StatsWindowDay: 24 * time.Hour, model.StatsWindowWeek: 7 * 24 * time.Hour,
}

// stats is a webhook's attempt statistics over a window ending now; null
// for a webhook the caller does not have.
func (r *queryResolver) stats(ctx context.Context, webhook string, window *model.StatsWindow) (*model.WebhookStats, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := webhookID(webhook)
	if !ok {
		return nil, nil
	}
	w := model.StatsWindowDay
	if window != nil {
		w = *window
	}
	s, err := r.App.Stats(ctx, p, id, statsWindows[w])
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &model.WebhookStats{
		From: s.From, To: s.To, Attempts: s.Attempts, Succeeded: s.Succeeded, Failed: s.Failed, SuccessRate: s.SuccessRate,
		P50LatencyMs: float64(s.P50) / float64(time.Millisecond), P95LatencyMs: float64(s.P95) / float64(time.Millisecond),
		StepSeconds: int(s.Step.Seconds()), Series: make([]model.StatsPoint, 0, len(s.Series)),
	}
	for _, pt := range s.Series {
		out.Series = append(out.Series, model.StatsPoint{At: pt.At, Attempts: pt.Attempts, Succeeded: pt.Succeeded, Failed: pt.Failed})
	}
	return out, nil
}
