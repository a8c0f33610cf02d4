package app

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

var accountID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Errors of authentication. They carry no detail on purpose: a caller must
// not learn whether a key exists, was revoked or expired.
var (
	ErrUnauthenticated = domain.Errorf(domain.EUNAUTHENTICATED, "a valid API key is required")
	ErrForbidden       = domain.Errorf(domain.EFORBIDDEN, "this API key's scope does not allow that")
)

// Authenticate resolves a raw API key to its principal. The secret is
// compared with the stored hash in constant time.
func (a *App) Authenticate(ctx context.Context, raw string) (Principal, error) {
	keyID, secret, err := domain.ParseAPIKey(raw)
	if err != nil {
		return Principal{}, ErrUnauthenticated
	}
	k, found, err := a.Read.APIKey(keyID)
	if err != nil {
		return Principal{}, err
	}
	// Hash even when the key is unknown, so timing does not tell.
	matches := domain.KeyMatches(k.SecretHash, secret)
	if !found || !matches || !k.ValidAt(a.Now()) {
		return Principal{}, ErrUnauthenticated
	}
	return Principal{AccountID: k.AccountID, KeyID: k.ID, Scope: k.Scope}, nil
}

// StillValid reports whether the principal's key still authenticates: not
// revoked or expired since the principal was resolved. Long-lived
// connections (subscriptions) check it before every message.
func (a *App) StillValid(p Principal) bool {
	if p.Session != "" {
		ps, found, err := a.Read.PortalSession(p.Session)
		return err == nil && found && ps.ValidAt(a.Now())
	}
	k, found, err := a.Read.APIKey(p.KeyID)
	return err == nil && found && k.ValidAt(a.Now())
}

// Require returns ErrForbidden unless the principal has one of scopes.
func Require(p Principal, scopes ...domain.KeyScope) error {
	for _, s := range scopes {
		if p.Scope == s {
			return nil
		}
	}
	return ErrForbidden
}

// CreatedKey is a new API key; Secret is the full key, shown once.
type CreatedKey struct {
	Key    domain.APIKey
	Secret string
}

// CreateAPIKey creates a key for account, creating the account first when
// it is new. Only the hash of the key is stored.
func (a *App) CreateAPIKey(ctx context.Context, account string, scope domain.KeyScope, label string, ttl time.Duration) (CreatedKey, error) {
	if !accountID.MatchString(account) {
		return CreatedKey{}, domain.FieldErrorf(domain.EINVALID, "account", "account must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	keyID, secret, err := domain.NewAPIKey(a.Random)
	if err != nil {
		return CreatedKey{}, err
	}
	cmd := domain.CreateAPIKey{KeyID: keyID, Scope: scope, SecretHash: domain.HashKeySecret(secret), Label: label}
	if ttl > 0 {
		cmd.ExpiresAt = a.Now().Add(ttl)
	}
	state, err := a.accountCommand(ctx, account, cmd)
	if err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{Key: state.Keys[keyID], Secret: domain.FormatAPIKey(keyID, secret)}, nil
}

// RevokeAPIKey revokes a key. An account principal may revoke only its own
// account's keys; an admin any key.
func (a *App) RevokeAPIKey(ctx context.Context, p Principal, keyID string) (domain.APIKey, error) {
	k, found, err := a.Read.APIKey(keyID)
	if err != nil {
		return domain.APIKey{}, err
	}
	if !found || (p.Scope != domain.ScopeAdmin && k.AccountID != p.AccountID) {
		return domain.APIKey{}, domain.FieldErrorf(domain.ENOTFOUND, "id", "API key not found")
	}
	state, err := a.accountCommand(ctx, k.AccountID, domain.RevokeAPIKey{KeyID: keyID})
	if err != nil {
		return domain.APIKey{}, err
	}
	return state.Keys[keyID], nil
}

// APIKeys lists an account's keys, revoked ones included.
func (a *App) APIKeys(ctx context.Context, account string) ([]domain.APIKey, error) {
	s, _, err := a.Read.Account(account)
	if err != nil {
		return nil, err
	}
	keys := make([]domain.APIKey, 0, len(s.Keys))
	for _, k := range s.Keys {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys, nil
}

// accountCommand decides cmd on account, creating the account first when
// the command is a key creation for an account that does not exist yet.
func (a *App) accountCommand(ctx context.Context, account string, cmd domain.AccountCommand) (domain.AccountState, error) {
	decide := func(s domain.AccountState) ([]eventstore.Event, error) {
		var decided []eventstore.Event
		if _, creating := cmd.(domain.CreateAPIKey); creating && !s.Exists() {
			created, err := domain.DecideAccount(s, domain.CreateAccount{AccountID: account, Name: account}, a.Now())
			if err != nil {
				return nil, err
			}
			decided = created
			for _, e := range created {
				s = domain.EvolveAccount(s, e)
			}
		}
		more, err := domain.DecideAccount(s, cmd, a.Now())
		if err != nil {
			return nil, err
		}
		return append(decided, more...), nil
	}
	s, err := handle(ctx, a, domain.AccountStream(account), domain.EvolveAccount, decide, true)
	if err != nil {
		return domain.AccountState{}, err
	}
	return s, nil
}

func sortKeys(keys []domain.APIKey) {
	slices.SortFunc(keys, func(a, b domain.APIKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}
