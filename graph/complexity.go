package graph

import (
	"time"

	"github.com/webhookd/webhookd/graph/generated"
	"github.com/webhookd/webhookd/graph/model"
)

// setComplexity makes each connection cost the objects it may return as
// well as the fields selected. gqlgen's default counts fields only, so a
// page of 100 cost the same as a page of 1, and aliasing 20 full pages
// into one request stayed far under MaxComplexity. Costs add rather than
// multiply: no connection here nests another (a delivery's attempts are
// bounded by the retry schedule), and a multiplied cost would refuse one
// ordinary full page of 100.
func setComplexity(c *generated.ComplexityRoot) {
	c.Query.Webhooks = func(child int, _ *model.WebhookFilter, first *int, _ *string) int {
		return pageCost(child, first, 20)
	}
	c.Query.History = func(child int, _ string, first *int, _ *string) int {
		return pageCost(child, first, 50)
	}
	c.Query.Deliveries = func(child int, _ string, _ *model.DeliveryStatus, _ *time.Time, _ *bool, first *int, _ *string) int {
		return pageCost(child, first, 20)
	}
}

// pageCost is the cost of a connection field: itself, its selection and
// one per object it may return. An out-of-range first is refused later by
// the resolver; here it is clamped so the sum cannot overflow.
func pageCost(child int, first *int, def int) int {
	n := def
	if first != nil {
		n = min(max(*first, 0), maxPage)
	}
	return 1 + child + n
}
