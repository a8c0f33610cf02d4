package httpserver

import (
	"net/http"
	"strings"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// portalSessionInfo is what the portal page learns about its session: who
// it is signed in as, what it may do, how to look, and the CSRF token to
// send with every request. Never the cookie, which stays HttpOnly.
type portalSessionInfo struct {
	Account   string             `json:"account"`
	ReadOnly  bool               `json:"readOnly"`
	ExpiresAt time.Time          `json:"expiresAt"`
	CSRFToken string             `json:"csrfToken"`
	Theme     domain.PortalTheme `json:"theme"`
}

// PortalExchangeHandler serves POST /portal/exchange: {"token": "whp_…"}
// from the magic link, exchanged once for the session cookie. A second
// use, an expired, revoked or unknown link is 401 with a message saying
// which. The body must be JSON from webhookd's own origin, so another site
// cannot sign a visitor into an account of its choosing.
func PortalExchangeHandler(a *app.App, opts PortalOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !app.SameOrigin(r) || r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			writePortalError(w, http.StatusForbidden, app.ErrCSRF)
			return
		}
		var in struct {
			Token string `json:"token"`
		}
		if err := decodeJSON(w, r, &in); err != nil {
			writePortalError(w, http.StatusBadRequest, err)
			return
		}
		cookie, ps, err := a.ExchangePortalLink(r.Context(), strings.TrimSpace(in.Token))
		if err != nil {
			writePortalError(w, errorStatus(err), err)
			return
		}
		app.SetPortalCookie(w, cookie, ps.ExpiresAt.Sub(a.Now()), secureCookie(r, opts.PublicURL))
		writeJSON(w, http.StatusOK, sessionInfo(ps, cookie, opts.Theme))
	})
}

// PortalSessionHandler serves GET /portal/session: the session of the
// request's cookie (see portalSessionInfo), or 401, so a reloaded portal
// page finds its session again. Only a page of webhookd's own origin can
// read the answer: no CORS header is ever sent.
func PortalSessionHandler(a *app.App, opts PortalOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookie := app.PortalCookie(r)
		p, err := a.AuthenticatePortalCookie(r.Context(), cookie)
		if err != nil {
			writePortalError(w, http.StatusUnauthorized, domain.Errorf(domain.EUNAUTHENTICATED, "no portal session: open a new sign-in link"))
			return
		}
		ps, found, err := a.PortalSession(p.Session)
		if err != nil || !found {
			writePortalError(w, http.StatusUnauthorized, domain.Errorf(domain.EUNAUTHENTICATED, "no portal session: open a new sign-in link"))
			return
		}
		writeJSON(w, http.StatusOK, sessionInfo(ps, cookie, opts.Theme))
	})
}

// PortalSignOutHandler serves POST /portal/sign-out: the cookie's session
// is revoked and the cookie removed. It needs the CSRF header like every
// cookie-authenticated request.
func PortalSignOutHandler(a *app.App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookie := app.PortalCookie(r)
		p, err := a.AuthenticatePortalCookie(r.Context(), cookie)
		if err == nil {
			err = app.CheckCSRF(r, cookie, r.Header.Get(app.CSRFHeader))
		}
		if err != nil {
			writePortalError(w, errorStatus(err), err)
			return
		}
		if _, err := a.RevokePortalSession(r.Context(), p, p.Session); err != nil {
			writePortalError(w, errorStatus(err), err)
			return
		}
		app.ClearPortalCookie(w)
		w.WriteHeader(http.StatusNoContent)
	})
}

func sessionInfo(ps domain.PortalSession, cookie string, defaults domain.PortalTheme) portalSessionInfo {
	return portalSessionInfo{
		Account: ps.AccountID, ReadOnly: ps.ReadOnly(), ExpiresAt: ps.ExpiresAt,
		CSRFToken: app.PortalCSRFToken(cookie), Theme: ps.Theme.Merge(defaults),
	}
}

// secureCookie reports whether the session cookie gets Secure: when the
// request came over TLS, or the operator's public URL is https (TLS ends
// at a proxy in front).
func secureCookie(r *http.Request, publicURL string) bool {
	return r.TLS != nil || strings.HasPrefix(publicURL, "https://")
}
