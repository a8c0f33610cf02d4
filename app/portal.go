package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/webhookd/webhookd/domain"
)

// ErrReadOnly refuses a change asked for by a read-only portal session.
var ErrReadOnly = domain.Errorf(domain.EFORBIDDEN, "this portal session is read-only: it may watch and test webhooks but not change or delete them")

// MintedPortalSession is a new portal session; Link is the one-use token
// for the URL, shown once.
type MintedPortalSession struct {
	Session domain.PortalSession
	Link    string
}

// CreatePortalSession mints a portal session for account (which must
// exist). Only admin principals may: the platform mints sessions for its
// account holders, who never see an API key. A zero ttl is
// domain.DefaultPortalTTL.
func (a *App) CreatePortalSession(ctx context.Context, p Principal, account string, ttl time.Duration, scope domain.PortalScope, theme domain.PortalTheme) (MintedPortalSession, error) {
	if err := Require(p, domain.ScopeAdmin); err != nil || p.Session != "" {
		return MintedPortalSession{}, ErrForbidden
	}
	if ttl == 0 {
		ttl = domain.DefaultPortalTTL
	}
	id, secret, err := domain.NewAPIKey(a.Random)
	if err != nil {
		return MintedPortalSession{}, err
	}
	cmd := domain.CreatePortalSession{SessionID: id, Scope: scope, SecretHash: domain.HashKeySecret(secret), Theme: theme, TTL: ttl}
	if !accountID.MatchString(account) {
		return MintedPortalSession{}, domain.FieldErrorf(domain.ENOTFOUND, "account", "account not found")
	}
	state, err := a.accountCommand(ctx, account, cmd)
	if err != nil {
		return MintedPortalSession{}, fieldOnNotFound(err, "account")
	}
	return MintedPortalSession{Session: state.Sessions[id], Link: domain.FormatPortalToken(domain.PortalLinkPrefix, id, secret)}, nil
}

// ExchangePortalLink uses a link token once and returns the session cookie
// that replaces it (and the session). A second use, like an expired,
// revoked or unknown link, is EUNAUTHENTICATED with a message that says
// which, for the holder of the real link only.
func (a *App) ExchangePortalLink(ctx context.Context, link string) (cookie string, _ domain.PortalSession, _ error) {
	id, secret, ok := domain.ParsePortalToken(domain.PortalLinkPrefix, link)
	if !ok {
		return "", domain.PortalSession{}, domain.ErrPortalLinkInvalid
	}
	ps, found, err := a.Read.PortalSession(id)
	if err != nil {
		return "", domain.PortalSession{}, err
	}
	if !found {
		domain.KeyMatches("", secret) // as much work as for a known session
		return "", domain.PortalSession{}, domain.ErrPortalLinkInvalid
	}
	_, cookieSecret, err := domain.NewAPIKey(a.Random)
	if err != nil {
		return "", domain.PortalSession{}, err
	}
	cmd := domain.ExchangePortalSession{SessionID: id, Secret: secret, CookieHash: domain.HashKeySecret(cookieSecret)}
	// The decision runs on the account's stream at its expected revision,
	// so of two concurrent uses of one link exactly one is appended; the
	// other is decided again on the new state and refused as used.
	state, err := a.accountCommand(ctx, ps.AccountID, cmd)
	if err != nil {
		return "", domain.PortalSession{}, err
	}
	return domain.FormatPortalToken(domain.PortalCookiePrefix, id, cookieSecret), state.Sessions[id], nil
}

// RevokePortalSession ends a session: its link, if unused, and its cookie.
// Admins may revoke any session; a session may revoke itself (signing
// out).
func (a *App) RevokePortalSession(ctx context.Context, p Principal, id string) (domain.PortalSession, error) {
	ps, found, err := a.Read.PortalSession(id)
	if err != nil {
		return domain.PortalSession{}, err
	}
	admin := p.Scope == domain.ScopeAdmin && p.Session == ""
	if !found || (!admin && p.Session != id) {
		return domain.PortalSession{}, domain.FieldErrorf(domain.ENOTFOUND, "id", "portal session not found")
	}
	state, err := a.accountCommand(ctx, ps.AccountID, domain.RevokePortalSession{SessionID: id})
	if err != nil {
		return domain.PortalSession{}, err
	}
	return state.Sessions[id], nil
}

// PortalSession returns session id as the read model has it.
func (a *App) PortalSession(id string) (domain.PortalSession, bool, error) {
	return a.Read.PortalSession(id)
}

// AuthenticatePortalCookie resolves a session cookie to its principal:
// an account principal of the session's account, read-only when the
// session is, that no API key stands behind.
func (a *App) AuthenticatePortalCookie(ctx context.Context, cookie string) (Principal, error) {
	id, secret, ok := domain.ParsePortalToken(domain.PortalCookiePrefix, cookie)
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	ps, found, err := a.Read.PortalSession(id)
	if err != nil {
		return Principal{}, fmt.Errorf("portal session %s: %w", id, err)
	}
	matches := domain.KeyMatches(ps.CookieHash, secret)
	if !found || !matches || !ps.ValidAt(a.Now()) {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{AccountID: ps.AccountID, Scope: domain.ScopeAccount, Session: ps.ID, ReadOnly: ps.ReadOnly()}, nil
}

// PortalCSRFToken is the value a page signed in with cookie must send in
// the CSRF header. It is derived from the cookie's secret, so the server
// keeps no second secret, and a page on another site, which can make the
// browser send the cookie but cannot read it, cannot compute it.
func PortalCSRFToken(cookie string) string {
	_, secret, _ := domain.ParsePortalToken(domain.PortalCookiePrefix, cookie)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("webhookd portal csrf v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// fieldOnNotFound names field on a NOT_FOUND error that has none, so the
// caller shows it beside the input that named the missing object.
func fieldOnNotFound(err error, field string) error {
	if de, ok := err.(*domain.Error); ok && de.Code == domain.ENOTFOUND && de.Field == "" {
		return &domain.Error{Code: de.Code, Field: field, Message: de.Message}
	}
	return err
}

// PortalLinkPath is the magic link of a link token, relative to the
// server. The token rides in the fragment, which browsers never send to a
// server or put in a Referer; the page exchanges it and removes it from
// the address bar.
func PortalLinkPath(token string) string { return "/portal#token=" + token }
