package graph

import (
	"context"
	"crypto/subtle"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/webhookd/webhookd/app"
)

// handshakeSession returns r's context carrying the portal session of a
// websocket handshake's cookie, when the handshake comes from webhookd's
// own origin: a page on another origin must not ride on the cookie
// (cross-site websocket hijacking), and browsers send Origin on every
// handshake.
func handshakeSession(a *app.App, r *http.Request) context.Context {
	cookie := app.PortalCookie(r)
	if cookie == "" || r.Header.Get("Authorization") != "" || !app.SameOrigin(r) || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return r.Context()
	}
	p, err := a.AuthenticatePortalCookie(r.Context(), cookie)
	if err != nil {
		return r.Context()
	}
	return app.WithCookieSession(r.Context(), app.CookieSession{Principal: p, CSRF: app.PortalCSRFToken(cookie)})
}

// initSession authenticates a connection_init without a key by the
// handshake's cookie session, if its payload carries the CSRF token.
func initSession(ctx context.Context, p transport.InitPayload) (app.Principal, bool) {
	cs, ok := app.CookieSessionFrom(ctx)
	if !ok {
		return app.Principal{}, false
	}
	token, _ := p[app.CSRFHeader].(string)
	if subtle.ConstantTimeCompare([]byte(token), []byte(cs.CSRF)) != 1 {
		return app.Principal{}, false
	}
	return cs.Principal, true
}

// readOnlyMutations are the mutations a read-only portal session may run:
// testing sends to the receiver but changes no webhook. Every other
// mutation, including any added later, is refused.
var readOnlyMutations = map[string]bool{"testWebhook": true, "checkWebhooks": true}

// sessionRefusedMutations are never open to a portal session, full or
// not: a session manages webhooks, not the account's API keys or other
// sessions.
var sessionRefusedMutations = map[string]bool{"createApiKey": true, "revokeApiKey": true, "createPortalSession": true, "revokePortalSession": true}

// guardPortalSessions refuses, with a top-level FORBIDDEN error, the
// mutations a portal session may not run. It is a field middleware so
// that one list decides for every mutation, whatever its resolver does.
func guardPortalSessions(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Mutation" {
		return next(ctx)
	}
	p, ok := app.PrincipalFrom(ctx)
	if !ok || p.Session == "" {
		return next(ctx)
	}
	name := fc.Field.Name
	if sessionRefusedMutations[name] {
		return nil, app.ErrForbidden
	}
	if p.ReadOnly && !readOnlyMutations[name] {
		return nil, app.ErrReadOnly
	}
	return next(ctx)
}
