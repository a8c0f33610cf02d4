package domain

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// KeyScope is what an API key may do.
type KeyScope string

// API key scopes: an account key manages its own account's webhooks; a
// publisher key publishes events for any account; an admin key operates
// webhookd itself.
const (
	ScopeAccount   KeyScope = "account"
	ScopePublisher KeyScope = "publisher"
	ScopeAdmin     KeyScope = "admin"
)

// Valid reports whether the scope is one of the three known ones.
func (s KeyScope) Valid() bool {
	return s == ScopeAccount || s == ScopePublisher || s == ScopeAdmin
}

// APIKeyPrefix starts every API key, so a leaked key is recognisable by
// secret scanners and in support tickets.
const APIKeyPrefix = "whk_"

var (
	apiKeyID     = regexp.MustCompile(`^[a-z0-9]{8,64}$`)
	apiKeySecret = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)
)

// NewAPIKey draws a key ID (24 hex digits) and a secret (43 base64url
// characters, 256 bits) from r, crypto/rand.Reader in production. The
// caller shows FormatAPIKey(id, secret) once and stores only
// HashKeySecret(secret).
func NewAPIKey(r io.Reader) (keyID, secret string, err error) {
	b := make([]byte, 12+32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", "", fmt.Errorf("new API key: %w", err)
	}
	return hex.EncodeToString(b[:12]), base64.RawURLEncoding.EncodeToString(b[12:]), nil
}

// FormatAPIKey writes a key as the client sends it: whk_<keyid>_<secret>.
func FormatAPIKey(keyID, secret string) string {
	return APIKeyPrefix + keyID + "_" + secret
}

// ParseAPIKey splits a presented key into its ID, which selects the stored
// key, and its secret, which is checked against the stored hash. Anything
// malformed is EUNAUTHENTICATED, with a message that does not echo the key.
func ParseAPIKey(raw string) (keyID, secret string, err error) {
	keyID, secret, ok := parseToken(APIKeyPrefix, raw)
	if !ok {
		return "", "", Errorf(EUNAUTHENTICATED, "malformed API key")
	}
	return keyID, secret, nil
}

// parseToken splits prefix<id>_<secret>, the shape of API keys and of
// portal tokens, checking both parts' alphabets and lengths.
func parseToken(prefix, raw string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(raw, prefix)
	if ok {
		id, secret, ok = strings.Cut(rest, "_") // IDs hold no '_'; secrets may
	}
	if !ok || !apiKeyID.MatchString(id) || !apiKeySecret.MatchString(secret) {
		return "", "", false
	}
	return id, secret, true
}

// HashKeySecret returns the hex SHA-256 of a key's secret, which is all that
// is stored. A fast hash suffices: the secret has 256 random bits, so there
// is nothing to brute-force.
func HashKeySecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// KeyMatches reports whether secret hashes to hash, in constant time so the
// comparison leaks nothing about how much of the hash matched.
func KeyMatches(hash, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashKeySecret(secret))) == 1
}

// APIKey is an API key as the account aggregate knows it: never the secret,
// only its hash.
type APIKey struct {
	ID         string
	AccountID  string
	Scope      KeyScope
	SecretHash string
	Label      string
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never expires
	RevokedAt  time.Time // zero: not revoked
}

// Revoked reports whether the key was revoked.
func (k APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// ValidAt reports whether the key authenticates at now: it exists, is not
// revoked and has not expired (it expires at ExpiresAt exactly).
func (k APIKey) ValidAt(now time.Time) bool {
	return k.ID != "" && !k.Revoked() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}
