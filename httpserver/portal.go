package httpserver

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
)

// PortalOptions configure the portal routes.
type PortalOptions struct {
	// PublicURL (--public-url) is the base of the absolute magic link; an
	// https one also marks the cookie Secure behind a TLS-terminating proxy.
	PublicURL string
	// Theme is the configured default theme (--portal-theme-file); a
	// session's own theme overrides it field by field.
	Theme domain.PortalTheme
}

// maxPortalBody bounds the small JSON bodies of the portal routes.
const maxPortalBody = 16 << 10

type portalSessionIn struct {
	Account    string             `json:"account"`
	TTLSeconds int                `json:"ttlSeconds"`
	Scope      domain.PortalScope `json:"scope"`
	Theme      domain.PortalTheme `json:"theme"`
}

type portalSessionOut struct {
	ID        string             `json:"id"`
	Account   string             `json:"account"`
	Scope     domain.PortalScope `json:"scope"`
	ExpiresAt time.Time          `json:"expiresAt"`
	RevokedAt *time.Time         `json:"revokedAt,omitempty"`
	Token     string             `json:"token,omitempty"`
	Path      string             `json:"path,omitempty"`
	URL       string             `json:"url,omitempty"`
}

// PortalSessionsHandler serves POST /v1/portal/sessions, the REST twin of
// createPortalSession for an admin key: {"account", "ttlSeconds",
// "scope": "full"|"read-only", "theme"} answered 201 with the session and
// its one-use magic link. The link's URL is built from --public-url, or
// else from the request, which the platform sent to this server.
func PortalSessionsHandler(a *app.App, opts PortalOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := adminPrincipal(a, w, r)
		if !ok {
			return
		}
		var in portalSessionIn
		if err := decodeJSON(w, r, &in); err != nil {
			writePortalError(w, http.StatusBadRequest, err)
			return
		}
		if in.Scope == "" {
			in.Scope = domain.PortalFull
		}
		if in.TTLSeconds < 0 {
			writePortalError(w, http.StatusBadRequest, domain.FieldErrorf(domain.EINVALID, "ttlSeconds", "ttlSeconds must be positive"))
			return
		}
		m, err := a.CreatePortalSession(r.Context(), p, in.Account, time.Duration(in.TTLSeconds)*time.Second, in.Scope, in.Theme)
		if err != nil {
			writePortalError(w, errorStatus(err), err)
			return
		}
		out := toSessionOut(m.Session)
		out.Token, out.Path = m.Link, app.PortalLinkPath(m.Link)
		out.URL = baseURL(r, opts.PublicURL) + out.Path
		writeJSON(w, http.StatusCreated, out)
	})
}

// PortalSessionRevokeHandler serves DELETE /v1/portal/sessions/{id} for
// an admin key: the session's link and cookie stop working at once.
func PortalSessionRevokeHandler(a *app.App) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := adminPrincipal(a, w, r)
		if !ok {
			return
		}
		ps, err := a.RevokePortalSession(r.Context(), p, r.PathValue("id"))
		if err != nil {
			writePortalError(w, errorStatus(err), err)
			return
		}
		writeJSON(w, http.StatusOK, toSessionOut(ps))
	})
}

func adminPrincipal(a *app.App, w http.ResponseWriter, r *http.Request) (app.Principal, bool) {
	p, err := a.Authenticate(r.Context(), app.BearerToken(r.Header.Get("Authorization")))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="webhookd"`)
		writePortalError(w, http.StatusUnauthorized, err)
		return app.Principal{}, false
	}
	if err := app.Require(p, domain.ScopeAdmin); err != nil {
		writePortalError(w, http.StatusForbidden, err)
		return app.Principal{}, false
	}
	return p, true
}

func toSessionOut(ps domain.PortalSession) portalSessionOut {
	out := portalSessionOut{ID: ps.ID, Account: ps.AccountID, Scope: ps.Scope, ExpiresAt: ps.ExpiresAt}
	if ps.Revoked() {
		out.RevokedAt = &ps.RevokedAt
	}
	return out
}

// baseURL is --public-url, or the scheme and host the request came to.
func baseURL(r *http.Request, publicURL string) string {
	if publicURL != "" {
		return strings.TrimSuffix(publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// decodeJSON reads a small JSON body into v, refusing other content
// types: a cross-site HTML form can send only form encodings and plain
// text, never application/json without a CORS preflight.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return domain.Errorf(domain.EINVALID, "the body must be JSON (Content-Type: application/json)")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPortalBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return domain.Errorf(domain.EINVALID, "the body is not the expected JSON object")
	}
	return nil
}

// errorStatus is the HTTP status of a domain error.
func errorStatus(err error) int {
	switch domain.ErrorCode(err) {
	case domain.EINVALID:
		return http.StatusBadRequest
	case domain.ENOTFOUND:
		return http.StatusNotFound
	case domain.ECONFLICT:
		return http.StatusConflict
	case domain.EUNAUTHENTICATED:
		return http.StatusUnauthorized
	case domain.EFORBIDDEN:
		return http.StatusForbidden
	case domain.ESTOREUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writePortalError answers {"error": {"code", "field", "message"}}.
func writePortalError(w http.ResponseWriter, status int, err error) {
	var de *domain.Error
	if !errors.As(err, &de) {
		de = domain.Errorf(domain.EINTERNAL, "internal error")
	}
	writeJSON(w, status, map[string]any{"error": de})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// MountPortal mounts the portal routes: minting and revoking sessions
// (admin keys), and the cookie exchange, session and sign-out routes the
// portal page calls. The page itself is web.Handler's /portal.
func (s *Server) MountPortal(a *app.App, opts PortalOptions) {
	s.Handle("POST /v1/portal/sessions", PortalSessionsHandler(a, opts))
	s.Handle("DELETE /v1/portal/sessions/{id}", PortalSessionRevokeHandler(a))
	s.Handle("POST /portal/exchange", PortalExchangeHandler(a, opts))
	s.Handle("GET /portal/session", PortalSessionHandler(a, opts))
	s.Handle("POST /portal/sign-out", PortalSignOutHandler(a))
}
