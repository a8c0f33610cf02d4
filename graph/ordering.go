package graph

import (
	"strings"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// The ordering setting between GraphQL and the domain. Domain modes are
// the lowercase GraphQL names.

func orderingIn(in *model.WebhookOrderingInput) *domain.Ordering {
	if in == nil {
		return nil
	}
	return &domain.Ordering{Mode: domain.OrderingMode(strings.ToLower(string(in.Mode))), Key: deref(in.Key)}
}

func toOrdering(v app.WebhookView) *model.WebhookOrdering {
	out := &model.WebhookOrdering{Mode: model.OrderingModeNone}
	if v.Ordering.Ordered() {
		out.Mode = model.OrderingMode(strings.ToUpper(string(v.Ordering.Mode)))
	}
	if v.Ordering.Key != "" {
		k := v.Ordering.Key
		out.Key = &k
	}
	return out
}

func toBlockedLines(lines []app.BlockedLine) []model.BlockedLine {
	out := make([]model.BlockedLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, model.BlockedLine{Key: l.Key, Delivery: toDelivery(l.Head), Waiting: l.Waiting,
			NextAttemptAt: l.NextAttemptAt, Reason: l.Reason})
	}
	return out
}
