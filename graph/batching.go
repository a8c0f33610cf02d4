package graph

import (
	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// The batching setting and an attempt's batch between GraphQL and the
// domain.

func batchingIn(in *model.WebhookBatchingInput) *domain.Batching {
	if in == nil {
		return nil
	}
	return &domain.Batching{MaxEvents: in.MaxEvents, MaxWaitMs: deref(in.MaxWaitMs)}
}

func toBatching(v app.WebhookView) *model.WebhookBatching {
	if !v.Batching.On() {
		return nil
	}
	return &model.WebhookBatching{MaxEvents: v.Batching.MaxEvents, MaxWaitMs: v.Batching.MaxWaitMs}
}

func toAttemptBatch(a app.AttemptView) *model.AttemptBatch {
	if a.BatchID == "" {
		return nil
	}
	return &model.AttemptBatch{ID: a.BatchID, Size: a.BatchSize}
}
