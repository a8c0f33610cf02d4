// Package accounts is the read model of accounts and their API keys, which
// authentication looks keys up in.
package accounts

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/jsoncodec"
	"github.com/webhookd/webhookd/projections"
)

var (
	bucketAccounts = []byte("accounts") // account id -> AccountState JSON
	bucketAPIKeys  = []byte("apikeys")  // key id -> APIKey JSON
)

// Accounts projects accounts and their API keys, which authentication reads
// on every request: one key lookup, no store read.
type Accounts struct{}

// Name implements Projection.
func (Accounts) Name() string { return "accounts" }

// Buckets implements Projection.
func (Accounts) Buckets() []string { return []string{string(bucketAccounts), string(bucketAPIKeys)} }

// Apply implements Projection.
func (Accounts) Apply(tx *bbolt.Tx, rec eventstore.RecordedEvent, ev eventstore.Event) ([]projections.Change, error) {
	id, ok := domain.AccountIDFromStream(rec.Stream)
	if !ok || ev == nil {
		return nil, nil
	}
	b := tx.Bucket(bucketAccounts)
	var state domain.AccountState
	if raw := b.Get([]byte(id)); raw != nil {
		if err := jsoncodec.Unmarshal(raw, &state); err != nil {
			return nil, fmt.Errorf("account %s: %w", id, err)
		}
	}
	state = domain.EvolveAccount(state, ev)
	raw, err := jsoncodec.Marshal(state)
	if err != nil {
		return nil, err
	}
	if err := b.Put([]byte(id), raw); err != nil {
		return nil, err
	}
	keys := tx.Bucket(bucketAPIKeys)
	for keyID, k := range state.Keys {
		raw, err := jsoncodec.Marshal(k)
		if err != nil {
			return nil, err
		}
		if err := keys.Put([]byte(keyID), raw); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// GetAPIKey returns the key with id keyID.
func GetAPIKey(db *bbolt.DB, keyID string) (domain.APIKey, bool, error) {
	var k domain.APIKey
	var found bool
	err := db.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketAPIKeys).Get([]byte(keyID))
		if raw == nil {
			return nil
		}
		found = true
		return jsoncodec.Unmarshal(raw, &k)
	})
	return k, found, err
}

// GetAccount returns the account id.
func GetAccount(db *bbolt.DB, id string) (domain.AccountState, bool, error) {
	var s domain.AccountState
	var found bool
	err := db.View(func(tx *bbolt.Tx) error {
		raw := tx.Bucket(bucketAccounts).Get([]byte(id))
		if raw == nil {
			return nil
		}
		found = true
		return jsoncodec.Unmarshal(raw, &s)
	})
	return s, found, err
}

// CountAccounts returns how many accounts exist, so a fresh data directory
// can be recognised.
func CountAccounts(db *bbolt.DB) (int, error) {
	var n int
	err := db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketAccounts).Stats().KeyN
		return nil
	})
	return n, err
}
