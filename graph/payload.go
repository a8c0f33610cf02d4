package graph

import (
	"context"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// payload answers a mutation with out: a user mistake (a domain error
// with a user code) becomes its userErrors (the field userErrs points to),
// a fault the top-level error, and on success ok fills in its object.
// Every mutation answers through it, so the rule is written once.
func payload[P any](err error, out *P, userErrs *[]model.UserError, ok func()) (*P, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	*userErrs = ue
	if len(ue) == 0 && ok != nil {
		ok()
	}
	return out, nil
}

// errWebhookNotFound is the user error of a mutation naming a webhook the
// caller does not have, or a malformed ID.
var errWebhookNotFound = domain.FieldErrorf(domain.ENOTFOUND, "id", "webhook not found")

// webhookInput resolves a mutation's caller and webhook ID. A missing
// caller is a fault; a malformed or foreign ID is errWebhookNotFound.
func webhookInput(ctx context.Context, gid string) (app.Principal, string, error) {
	p, err := principal(ctx)
	if err != nil {
		return p, "", err
	}
	id, ok := webhookID(gid)
	if !ok {
		return p, "", errWebhookNotFound
	}
	return p, id, nil
}
