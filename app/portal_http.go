package app

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// The portal session cookie. Behind TLS it carries the __Host- prefix,
// which browsers accept only with Secure, Path=/ and no Domain, so no
// sibling host can plant or override it; on plain HTTP (development) it
// goes without.
const (
	PortalCookieName       = "webhookd_portal"
	SecurePortalCookieName = "__Host-webhookd_portal"
)

// CSRFHeader is the header a page signed in with the portal cookie sends
// with every request, holding PortalCSRFToken. A cross-site form cannot
// set headers, and a cross-site script cannot send one to webhookd
// without a CORS preflight, which webhookd never grants.
const CSRFHeader = "X-Webhookd-CSRF"

// ErrCSRF refuses a cookie-authenticated request without the right CSRF
// header, or a cross-site one.
var ErrCSRF = domain.Errorf(domain.EFORBIDDEN, "cross-site request refused: a request signed in by the portal cookie needs the "+CSRFHeader+" header its page sets")

// PortalCookie returns the portal session cookie of r, or "".
func PortalCookie(r *http.Request) string {
	for _, name := range []string{SecurePortalCookieName, PortalCookieName} {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// AuthenticateRequest resolves the caller of an HTTP request: the Bearer
// API key when there is an Authorization header, else the portal cookie,
// which must come with the CSRF header (see CheckCSRF). Without either it
// is ErrUnauthenticated.
func (a *App) AuthenticateRequest(r *http.Request) (Principal, error) {
	cookie := PortalCookie(r)
	if r.Header.Get("Authorization") != "" || cookie == "" {
		return a.Authenticate(r.Context(), BearerToken(r.Header.Get("Authorization")))
	}
	p, err := a.AuthenticatePortalCookie(r.Context(), cookie)
	if err != nil {
		return Principal{}, err
	}
	if err := CheckCSRF(r, cookie, r.Header.Get(CSRFHeader)); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// CheckCSRF checks a cookie-authenticated request: token must be the
// cookie's PortalCSRFToken, and the browser must not call the request
// cross-site (Sec-Fetch-Site), nor name another origin (Origin). The
// cookie's SameSite=Strict already keeps it off cross-site requests; this
// holds even in a browser that ignores SameSite.
func CheckCSRF(r *http.Request, cookie, token string) error {
	want := PortalCSRFToken(cookie)
	if subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return ErrCSRF
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" || !SameOrigin(r) {
		return ErrCSRF
	}
	return nil
}

// SameOrigin reports whether r's Origin header, when present, names the
// host r was sent to. Browsers send Origin on every POST and websocket
// handshake, so a page on another origin is told apart.
func SameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// SetPortalCookie sets the session cookie for ttl (the session's time
// left, by the App's clock): HttpOnly, so page scripts never read it;
// SameSite=Strict, so no other site's page makes the browser send it;
// Secure (and __Host-) when secure. The server checks expiry itself; the
// browser's Max-Age only drops a dead cookie.
func SetPortalCookie(w http.ResponseWriter, value string, ttl time.Duration, secure bool) {
	name := PortalCookieName
	if secure {
		name = SecurePortalCookieName
	}
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: max(1, int(ttl.Seconds())),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
	})
}

// ClearPortalCookie removes the session cookie (both names).
func ClearPortalCookie(w http.ResponseWriter) {
	for _, name := range []string{SecurePortalCookieName, PortalCookieName} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: name == SecurePortalCookieName, SameSite: http.SameSiteStrictMode})
	}
}

type cookieSessionKey struct{}

// CookieSession is a portal principal resolved from a websocket
// handshake's cookie, waiting for connection_init to prove the CSRF
// token: browsers cannot set headers on a websocket handshake.
type CookieSession struct {
	Principal Principal
	CSRF      string
}

// WithCookieSession returns ctx carrying a handshake's cookie session.
func WithCookieSession(ctx context.Context, cs CookieSession) context.Context {
	return context.WithValue(ctx, cookieSessionKey{}, cs)
}

// CookieSessionFrom returns the handshake's cookie session, if any.
func CookieSessionFrom(ctx context.Context) (CookieSession, bool) {
	cs, ok := ctx.Value(cookieSessionKey{}).(CookieSession)
	return cs, ok
}
