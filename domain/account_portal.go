package domain

import (
	"fmt"
	"maps"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// PortalScope is what a portal session may do in the Webhooks tab.
type PortalScope string

// Portal session scopes: a full session manages the account's webhooks as
// an account key does; a read-only one may watch and test them but never
// change or delete anything.
const (
	PortalFull     PortalScope = "full"
	PortalReadOnly PortalScope = "read-only"
)

// Valid reports whether the scope is one of the two known ones.
func (s PortalScope) Valid() bool { return s == PortalFull || s == PortalReadOnly }

// Portal session lifetimes. A magic link is meant to be opened at once by
// the platform that minted it, so sessions are short: the link and the
// session it opens expire together.
const (
	MinPortalTTL     = time.Minute
	MaxPortalTTL     = 24 * time.Hour
	DefaultPortalTTL = time.Hour
)

// PortalSession is a portal session as the account aggregate knows it:
// only hashes of its link token and of its cookie, never either secret.
type PortalSession struct {
	ID          string      `json:"id"`
	AccountID   string      `json:"accountId"`
	Scope       PortalScope `json:"scope"`
	TokenHash   string      `json:"tokenHash"`
	CookieHash  string      `json:"cookieHash,omitempty"`
	Theme       PortalTheme `json:"theme"`
	CreatedAt   time.Time   `json:"createdAt"`
	ExpiresAt   time.Time   `json:"expiresAt"`
	ExchangedAt time.Time   `json:"exchangedAt,omitzero"`
	RevokedAt   time.Time   `json:"revokedAt,omitzero"`
}

// Exchanged reports whether the session's link was used.
func (s PortalSession) Exchanged() bool { return !s.ExchangedAt.IsZero() }

// Revoked reports whether the session was revoked.
func (s PortalSession) Revoked() bool { return !s.RevokedAt.IsZero() }

// ReadOnly reports whether the session may only watch and test.
func (s PortalSession) ReadOnly() bool { return s.Scope != PortalFull }

// ValidAt reports whether the session's cookie authenticates at now: the
// link was exchanged, and the session is neither revoked nor expired.
func (s PortalSession) ValidAt(now time.Time) bool {
	return s.ID != "" && s.Exchanged() && !s.Revoked() && now.Before(s.ExpiresAt)
}

// PortalSessionCreated records a minted session. SecretHash is the
// SHA-256 of the link token's secret (named like the API key's so the
// history redacts it).
type PortalSessionCreated struct {
	SessionID  string      `json:"sessionId"`
	AccountID  string      `json:"accountId"`
	Scope      PortalScope `json:"scope"`
	SecretHash string      `json:"secretHash"`
	Theme      PortalTheme `json:"theme"`
	CreatedAt  time.Time   `json:"createdAt"`
	ExpiresAt  time.Time   `json:"expiresAt"`
}

// PortalSessionExchanged records the one use of a session's link: from
// then on only the cookie whose secret hashes to SecretHash authenticates.
type PortalSessionExchanged struct {
	SessionID  string    `json:"sessionId"`
	AccountID  string    `json:"accountId"`
	SecretHash string    `json:"secretHash"`
	At         time.Time `json:"at"`
}

// PortalSessionRevoked ends a session (its link and its cookie) for good.
type PortalSessionRevoked struct {
	SessionID string    `json:"sessionId"`
	AccountID string    `json:"accountId"`
	At        time.Time `json:"at"`
}

// Stable stored names of the portal session events.
func (PortalSessionCreated) EventType() string   { return "portal.session.created.v1" }
func (PortalSessionExchanged) EventType() string { return "portal.session.exchanged.v1" }
func (PortalSessionRevoked) EventType() string   { return "portal.session.revoked.v1" }

// CreatePortalSession mints a session; only the hash of the link token's
// secret (HashKeySecret) is passed in.
type CreatePortalSession struct {
	SessionID  string
	Scope      PortalScope
	SecretHash string
	Theme      PortalTheme
	TTL        time.Duration
}

// ExchangePortalSession uses a session's link once: Secret is the secret
// the link carried, CookieHash the hash of the cookie that replaces it.
type ExchangePortalSession struct {
	SessionID  string
	Secret     string
	CookieHash string
}

// RevokePortalSession revokes a session.
type RevokePortalSession struct{ SessionID string }

func (CreatePortalSession) isAccountCommand()   {}
func (ExchangePortalSession) isAccountCommand() {}
func (RevokePortalSession) isAccountCommand()   {}

// Errors of a link exchange. A link that does not match is told apart from
// nothing else; a matching link that is expired, used or revoked says so,
// since only its holder can learn that.
var (
	ErrPortalLinkInvalid = Errorf(EUNAUTHENTICATED, "This sign-in link is not valid.")
	ErrPortalLinkExpired = Errorf(EUNAUTHENTICATED, "This sign-in link has expired. Ask for a new one.")
	ErrPortalLinkUsed    = Errorf(EUNAUTHENTICATED, "This sign-in link was already used. Ask for a new one.")
	ErrPortalLinkRevoked = Errorf(EUNAUTHENTICATED, "This sign-in link was revoked.")
)

// decidePortal decides the portal session commands; ok is false for any
// other command.
func decidePortal(s AccountState, cmd AccountCommand, now time.Time) (events []eventstore.Event, ok bool, err error) {
	switch c := cmd.(type) {
	case CreatePortalSession:
		events, err = decideCreatePortalSession(s, c, now)
	case ExchangePortalSession:
		events, err = decideExchangePortalSession(s, c, now)
	case RevokePortalSession:
		events, err = decideRevokePortalSession(s, c, now)
	default:
		return nil, false, nil
	}
	return events, true, err
}

func decideCreatePortalSession(s AccountState, c CreatePortalSession, now time.Time) ([]eventstore.Event, error) {
	switch {
	case !apiKeyID.MatchString(c.SessionID):
		return nil, FieldErrorf(EINVALID, "id", "malformed portal session ID")
	case !c.Scope.Valid():
		return nil, FieldErrorf(EINVALID, "scope", "scope must be full or read-only, not %q", c.Scope)
	case !secretHash.MatchString(c.SecretHash):
		return nil, FieldErrorf(EINVALID, "secretHash", "secret hash must be 64 lowercase hex digits (HashKeySecret)")
	case c.TTL < MinPortalTTL || c.TTL > MaxPortalTTL:
		return nil, FieldErrorf(EINVALID, "ttl", "ttl must be between %v and %v", MinPortalTTL, MaxPortalTTL)
	}
	if err := c.Theme.Validate(); err != nil {
		return nil, err
	}
	if _, dup := s.Sessions[c.SessionID]; dup {
		return nil, Errorf(ECONFLICT, "portal session %s already exists", c.SessionID)
	}
	return one(PortalSessionCreated{
		SessionID: c.SessionID, AccountID: s.ID, Scope: c.Scope, SecretHash: c.SecretHash,
		Theme: c.Theme, CreatedAt: now, ExpiresAt: now.Add(c.TTL),
	})
}

func decideExchangePortalSession(s AccountState, c ExchangePortalSession, now time.Time) ([]eventstore.Event, error) {
	ps, found := s.Sessions[c.SessionID]
	// Hash even when the session is unknown, so timing does not tell.
	matches := KeyMatches(ps.TokenHash, c.Secret)
	switch {
	case !found || !matches:
		return nil, ErrPortalLinkInvalid
	case ps.Revoked():
		return nil, ErrPortalLinkRevoked
	case ps.Exchanged():
		return nil, ErrPortalLinkUsed
	case !now.Before(ps.ExpiresAt):
		return nil, ErrPortalLinkExpired
	case !secretHash.MatchString(c.CookieHash):
		return nil, fmt.Errorf("exchange portal session: malformed cookie hash")
	}
	return one(PortalSessionExchanged{SessionID: ps.ID, AccountID: s.ID, SecretHash: c.CookieHash, At: now})
}

func decideRevokePortalSession(s AccountState, c RevokePortalSession, now time.Time) ([]eventstore.Event, error) {
	ps, found := s.Sessions[c.SessionID]
	switch {
	case !found:
		return nil, FieldErrorf(ENOTFOUND, "id", "portal session not found")
	case ps.Revoked():
		return nil, FieldErrorf(EINVALID, "id", "portal session %s is already revoked", c.SessionID)
	}
	return one(PortalSessionRevoked{SessionID: ps.ID, AccountID: s.ID, At: now})
}

// evolvePortal applies a portal session event to the account; other
// events leave it as it is.
func evolvePortal(s AccountState, e eventstore.Event) AccountState {
	id := PortalSessionID(e)
	if id == "" {
		return s
	}
	ps := EvolvePortalSession(s.Sessions[id], e)
	s.Sessions = maps.Clone(s.Sessions)
	if s.Sessions == nil {
		s.Sessions = map[string]PortalSession{}
	}
	s.Sessions[id] = ps
	return s
}

// PortalSessionID returns the session a portal session event concerns,
// or "" for any other event.
func PortalSessionID(e eventstore.Event) string {
	switch e := e.(type) {
	case PortalSessionCreated:
		return e.SessionID
	case PortalSessionExchanged:
		return e.SessionID
	case PortalSessionRevoked:
		return e.SessionID
	}
	return ""
}

// EvolvePortalSession applies one portal session event to that session.
// The read model folds sessions by ID with it, as the aggregate does.
func EvolvePortalSession(ps PortalSession, e eventstore.Event) PortalSession {
	switch e := e.(type) {
	case PortalSessionCreated:
		ps = PortalSession{
			ID: e.SessionID, AccountID: e.AccountID, Scope: e.Scope, TokenHash: e.SecretHash,
			Theme: e.Theme, CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt,
		}
	case PortalSessionExchanged:
		ps.ExchangedAt, ps.CookieHash = e.At, e.SecretHash
	case PortalSessionRevoked:
		ps.RevokedAt = e.At
	}
	return ps
}
