package graph

import (
	"context"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/model"
)

func principal(ctx context.Context) (app.Principal, error) {
	p, ok := app.PrincipalFrom(ctx)
	if !ok {
		return app.Principal{}, app.ErrUnauthenticated
	}
	return p, nil
}

// Authenticate is HTTP middleware that resolves the bearer key into the
// request context. A missing or invalid key is refused with 401 and a
// GraphQL-shaped error, before any parsing happens.
func Authenticate(a *app.App, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebsocketUpgrade(r) {
			// Authenticated in connection_init: by the key it carries, or
			// by the portal cookie sent here with the CSRF token there.
			next.ServeHTTP(w, r.WithContext(handshakeSession(a, r)))
			return
		}
		p, err := a.AuthenticateRequest(r)
		if err != nil {
			status := http.StatusUnauthorized
			if domain.ErrorCode(err) == domain.EFORBIDDEN {
				status = http.StatusForbidden
			}
			writeError(w, status, domain.ErrorMessage(err), domain.ErrorCode(err))
			return
		}
		next.ServeHTTP(w, r.WithContext(app.WithPrincipal(r.Context(), p)))
	})
}

func isWebsocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// hasScope implements the @hasScope directive.
func hasScope(ctx context.Context, _ any, next graphql.Resolver, any []model.Scope) (any, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range any {
		if strings.EqualFold(string(s), string(p.Scope)) {
			return next(ctx)
		}
	}
	return nil, app.ErrForbidden
}
