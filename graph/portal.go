package graph

import (
	"context"
	"strings"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

// Portal sessions: minting and revoking (admin keys), and reading one.

func (r *mutationResolver) createPortalSession(ctx context.Context, input model.CreatePortalSessionInput) (*model.CreatePortalSessionPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	out := &model.CreatePortalSessionPayload{}
	ttl := time.Duration(deref(input.TTLSeconds)) * time.Second
	if input.TTLSeconds != nil && ttl <= 0 {
		return payload(domain.FieldErrorf(domain.EINVALID, "ttlSeconds", "ttlSeconds must be positive"), out, &out.UserErrors, nil)
	}
	scope := domain.PortalFull
	if input.Scope != nil && *input.Scope == model.PortalScopeReadOnly {
		scope = domain.PortalReadOnly
	}
	var theme domain.PortalTheme
	if t := input.Theme; t != nil {
		theme = domain.PortalTheme{BrandColor: deref(t.BrandColor), LogoURL: deref(t.LogoURL), ProductName: deref(t.ProductName)}
	}
	m, err := r.App.CreatePortalSession(ctx, p, input.Account, ttl, scope, theme)
	if de, ok := err.(*domain.Error); ok && de.Field == "ttl" {
		err = &domain.Error{Code: de.Code, Field: "ttlSeconds", Message: de.Message}
	}
	return payload(err, out, &out.UserErrors, func() {
		s := toPortalSession(m.Session)
		path := app.PortalLinkPath(m.Link)
		out.Session, out.Token, out.Path = &s, &m.Link, &path
		if r.PublicURL != "" {
			u := strings.TrimSuffix(r.PublicURL, "/") + path
			out.URL = &u
		}
	})
}

func (r *mutationResolver) revokePortalSession(ctx context.Context, input model.RevokePortalSessionInput) (*model.RevokePortalSessionPayload, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ps, err := r.App.RevokePortalSession(ctx, p, input.ID)
	out := &model.RevokePortalSessionPayload{}
	return payload(err, out, &out.UserErrors, func() {
		s := toPortalSession(ps)
		out.Session = &s
	})
}

func (r *queryResolver) portalSession(_ context.Context, id string) (*model.PortalSession, error) {
	ps, found, err := r.App.PortalSession(id)
	if err != nil || !found {
		return nil, err
	}
	s := toPortalSession(ps)
	return &s, nil
}

func toPortalSession(ps domain.PortalSession) model.PortalSession {
	scope := model.PortalScopeFull
	if ps.ReadOnly() {
		scope = model.PortalScopeReadOnly
	}
	return model.PortalSession{
		ID: ps.ID, Account: ps.AccountID, Scope: scope,
		Theme:     &model.PortalTheme{BrandColor: optional(ps.Theme.BrandColor), LogoURL: optional(ps.Theme.LogoURL), ProductName: optional(ps.Theme.ProductName)},
		CreatedAt: ps.CreatedAt, ExpiresAt: ps.ExpiresAt,
		ExchangedAt: optionalTime(ps.ExchangedAt), RevokedAt: optionalTime(ps.RevokedAt),
	}
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
