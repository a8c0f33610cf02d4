package graph

import (
	"context"
	"strings"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// API keys: create and revoke (admin), and the listing.

func (r *mutationResolver) createAPIKey(ctx context.Context, input model.CreateAPIKeyInput) (*model.CreateAPIKeyPayload, error) {
	out := &model.CreateAPIKeyPayload{}
	ttl := time.Duration(deref(input.ExpiresInSeconds)) * time.Second
	if ttl < 0 {
		return payload(domain.FieldErrorf(domain.EINVALID, "expiresInSeconds", "expiresInSeconds must be positive"), out, &out.UserErrors, nil)
	}
	k, err := r.App.CreateAPIKey(ctx, input.Account, domain.KeyScope(strings.ToLower(string(input.Scope))), deref(input.Label), ttl)
	return payload(err, out, &out.UserErrors, func() {
		key := toAPIKey(k.Key)
		out.APIKey, out.Secret = &key, &k.Secret
	})
}

func (r *mutationResolver) revokeAPIKey(ctx context.Context, input model.RevokeAPIKeyInput) (*model.RevokeAPIKeyPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	k, err := r.App.RevokeAPIKey(ctx, p, input.ID)
	out := &model.RevokeAPIKeyPayload{}
	return payload(err, out, &out.UserErrors, func() {
		key := toAPIKey(k)
		out.APIKey = &key
	})
}

// apiKeys lists an account's keys: the caller's own, or (admin only)
// another account's.
func (r *queryResolver) apiKeys(ctx context.Context, account *string) ([]model.APIKey, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	acct := p.AccountID
	if account != nil && *account != p.AccountID {
		if p.Scope != domain.ScopeAdmin {
			return []model.APIKey{}, nil
		}
		acct = *account
	}
	keys, err := r.App.APIKeys(ctx, acct)
	if err != nil {
		return nil, err
	}
	out := make([]model.APIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, toAPIKey(k))
	}
	return out, nil
}
