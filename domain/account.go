package domain

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/webhookd/webhookd/eventstore"
)

// AccountState is the account aggregate, folded from AccountStream(id) by
// EvolveAccount: the account and its API keys (revoked ones included, so an
// ID is never reused). It is a value; evolving copies Keys before changing it.
type AccountState struct {
	ID   string
	Name string
	Keys map[string]APIKey // by key ID
	// Sessions are the account's portal sessions by ID, expired and
	// revoked ones included, so an ID is never reused.
	Sessions  map[string]PortalSession
	Version   uint64 // events folded in; last revision is Version-1
	CreatedAt time.Time
}

// Exists reports whether the account was created.
func (s AccountState) Exists() bool { return s.ID != "" }

// ExpectedRevision is the optimistic-concurrency condition for appending the
// events decided on this state.
func (s AccountState) ExpectedRevision() eventstore.ExpectedRevision {
	if s.Version == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(s.Version - 1)
}

// KeyValidAt reports whether the account's key keyID authenticates at now.
func (s AccountState) KeyValidAt(keyID string, now time.Time) bool {
	return s.Keys[keyID].ValidAt(now)
}

// AccountCreated starts an account's stream.
type AccountCreated struct {
	AccountID string    `json:"accountId"`
	Name      string    `json:"name"`
	At        time.Time `json:"at"`
}

// APIKeyCreated records a new key. It holds the SHA-256 of the key's secret,
// never the secret.
type APIKeyCreated struct {
	KeyID      string     `json:"keyId"`
	AccountID  string     `json:"accountId"`
	Scope      KeyScope   `json:"scope"`
	SecretHash string     `json:"secretHash"`
	Label      string     `json:"label,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
}

// APIKeyRevoked ends a key for good.
type APIKeyRevoked struct {
	KeyID     string    `json:"keyId"`
	AccountID string    `json:"accountId"`
	At        time.Time `json:"at"`
}

// Stable stored names of the account events.
func (AccountCreated) EventType() string { return "account.created.v1" }
func (APIKeyCreated) EventType() string  { return "apikey.created.v1" }
func (APIKeyRevoked) EventType() string  { return "apikey.revoked.v1" }

// AccountCommand is a request to change an account, decided by
// DecideAccount.
type AccountCommand interface{ isAccountCommand() }

// CreateAccount opens an account under a caller-generated ID.
type CreateAccount struct {
	AccountID string
	Name      string
}

// CreateAPIKey adds a key (from NewAPIKey) to the account; only the hash of
// its secret is passed in. A zero ExpiresAt means the key never expires.
type CreateAPIKey struct {
	KeyID      string
	Scope      KeyScope
	SecretHash string
	Label      string
	ExpiresAt  time.Time
}

// RevokeAPIKey revokes one of the account's keys.
type RevokeAPIKey struct{ KeyID string }

func (CreateAccount) isAccountCommand() {}
func (CreateAPIKey) isAccountCommand()  {}
func (RevokeAPIKey) isAccountCommand()  {}

var secretHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// DecideAccount decides what a command does to an account. Commands on an
// account never created are ENOTFOUND; creating one twice, or reusing a key
// ID, is ECONFLICT; bad input, or revoking a revoked key, is EINVALID; an
// unknown key is ENOTFOUND.
func DecideAccount(s AccountState, cmd AccountCommand, now time.Time) ([]eventstore.Event, error) {
	if c, ok := cmd.(CreateAccount); ok {
		return decideCreateAccount(s, c, now)
	}
	if !s.Exists() {
		return nil, Errorf(ENOTFOUND, "account not found")
	}
	switch c := cmd.(type) {
	case CreateAPIKey:
		return decideCreateAPIKey(s, c, now)
	case RevokeAPIKey:
		k, ok := s.Keys[c.KeyID]
		switch {
		case !ok:
			return nil, Errorf(ENOTFOUND, "API key not found")
		case k.Revoked():
			return nil, Errorf(EINVALID, "API key %s is already revoked", c.KeyID)
		}
		return one(APIKeyRevoked{KeyID: c.KeyID, AccountID: s.ID, At: now})
	default:
		if events, ok, err := decidePortal(s, cmd, now); ok {
			return events, err
		}
		return nil, fmt.Errorf("decide account: unknown command %T", cmd)
	}
}

func decideCreateAccount(s AccountState, c CreateAccount, now time.Time) ([]eventstore.Event, error) {
	switch {
	case s.Exists():
		return nil, Errorf(ECONFLICT, "account %s already exists", s.ID)
	case c.AccountID == "":
		return nil, FieldErrorf(EINVALID, "id", "account ID is required")
	case strings.TrimSpace(c.Name) == "" || utf8.RuneCountInString(c.Name) > MaxWebhookNameLength:
		return nil, FieldErrorf(EINVALID, "name", "name must be 1 to %d characters", MaxWebhookNameLength)
	}
	return one(AccountCreated{AccountID: c.AccountID, Name: c.Name, At: now})
}

func decideCreateAPIKey(s AccountState, c CreateAPIKey, now time.Time) ([]eventstore.Event, error) {
	switch {
	case !apiKeyID.MatchString(c.KeyID):
		return nil, FieldErrorf(EINVALID, "id", "malformed API key ID")
	case !c.Scope.Valid():
		return nil, FieldErrorf(EINVALID, "scope", "scope must be account, publisher or admin, not %q", c.Scope)
	case !secretHash.MatchString(c.SecretHash):
		return nil, FieldErrorf(EINVALID, "secretHash", "secret hash must be 64 lowercase hex digits (HashKeySecret)")
	case utf8.RuneCountInString(c.Label) > MaxWebhookNameLength:
		return nil, FieldErrorf(EINVALID, "label", "label must be at most %d characters", MaxWebhookNameLength)
	case !c.ExpiresAt.IsZero() && !c.ExpiresAt.After(now):
		return nil, FieldErrorf(EINVALID, "expiresAt", "expiry must be in the future")
	}
	if _, dup := s.Keys[c.KeyID]; dup {
		return nil, Errorf(ECONFLICT, "API key %s already exists", c.KeyID)
	}
	e := APIKeyCreated{KeyID: c.KeyID, AccountID: s.ID, Scope: c.Scope, SecretHash: c.SecretHash, Label: c.Label, CreatedAt: now}
	if !c.ExpiresAt.IsZero() {
		e.ExpiresAt = &c.ExpiresAt
	}
	return one(e)
}

// EvolveAccount applies one event of an account's stream to its state; see
// EvolveWebhook for the contract.
func EvolveAccount(s AccountState, e eventstore.Event) AccountState {
	s.Version++
	switch e := e.(type) {
	case AccountCreated:
		s.ID, s.Name, s.CreatedAt = e.AccountID, e.Name, e.At
	case APIKeyCreated:
		k := APIKey{ID: e.KeyID, AccountID: e.AccountID, Scope: e.Scope, SecretHash: e.SecretHash, Label: e.Label, CreatedAt: e.CreatedAt}
		if e.ExpiresAt != nil {
			k.ExpiresAt = *e.ExpiresAt
		}
		s.Keys = maps.Clone(s.Keys)
		if s.Keys == nil {
			s.Keys = map[string]APIKey{}
		}
		s.Keys[k.ID] = k
	case APIKeyRevoked:
		if k, ok := s.Keys[e.KeyID]; ok {
			k.RevokedAt = e.At
			s.Keys = maps.Clone(s.Keys)
			s.Keys[k.ID] = k
		}
	default:
		s = evolvePortal(s, e)
	}
	return s
}

// FoldAccount folds a whole stream's events, in order, into a state.
func FoldAccount(events []eventstore.Event) AccountState { return fold(EvolveAccount, events) }
