package graph

import (
	"context"
	"encoding/json"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/graph/model"
)

// publishEvents records each event as a message; each is accepted or
// refused on its own, so a refused one has its own userErrors.
func (r *mutationResolver) publishEvents(ctx context.Context, input model.PublishEventsInput) (*model.PublishEventsPayload, error) {
	in := make([]app.PublishInput, len(input.Events))
	for i, e := range input.Events {
		in[i] = app.PublishInput{ID: deref(e.ID), Account: e.Account, Type: e.Type, Data: json.RawMessage(e.Data)}
	}
	res, err := r.App.Publish(ctx, in)
	out := &model.PublishEventsPayload{Results: make([]model.PublishEventResult, 0, len(res))}
	return payload(err, out, &out.UserErrors, func() {
		for _, pr := range res {
			item := model.PublishEventResult{Duplicate: pr.Duplicate, UserErrors: []model.UserError{}}
			if pr.Err != nil {
				item.UserErrors, _ = userErrors(pr.Err)
			} else {
				item.MessageID = &pr.MessageID
			}
			out.Results = append(out.Results, item)
		}
	})
}
