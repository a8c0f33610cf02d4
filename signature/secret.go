package signature

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Key prefixes of the Standard Webhooks key formats. They make a key's kind
// obvious when it is pasted into a config file or a support ticket.
const (
	SecretPrefix     = "whsec_" // symmetric HMAC secret
	SigningKeyPrefix = "whsk_"  // ed25519 private key (its 32-byte seed)
	PublicKeyPrefix  = "whpk_"  // ed25519 public key
)

// Secret sizes. The Standard Webhooks spec asks for 24 to 64 random bytes;
// NewSecret uses 32, the HMAC-SHA256 output size, which is ample.
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
	newSecretBytes = 32
)

// ErrInvalidSecret reports a secret or key that cannot be decoded.
var ErrInvalidSecret = errors.New("signature: invalid secret")

// ParseSecret decodes a "whsec_<base64>" secret into the HMAC key. The
// prefix is optional, as in the reference libraries, because receivers often
// paste the bare base64 part. Secrets shorter than MinSecretBytes are
// accepted when verifying (a sender chose them) but NewSecret never makes one.
func ParseSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("%w: not base64 after %q: %v", ErrInvalidSecret, SecretPrefix, err)
	}
	if len(key) == 0 || len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: %d bytes, want 1 to %d", ErrInvalidSecret, len(key), MaxSecretBytes)
	}
	return key, nil
}

// NewSecret returns a fresh "whsec_" secret of 32 bytes read from r, which
// is crypto/rand.Reader in production and a fixed reader in tests.
func NewSecret(r io.Reader) (string, error) {
	b := make([]byte, newSecretBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("signature: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// NewSigningKey returns a fresh ed25519 key for v1a signatures, drawing its
// seed from r.
func NewSigningKey(r io.Reader) (ed25519.PrivateKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("signature: new signing key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// FormatSigningKey writes a private key as "whsk_<base64 seed>", the form
// the reference libraries read.
func FormatSigningKey(k ed25519.PrivateKey) string {
	return SigningKeyPrefix + base64.StdEncoding.EncodeToString(k.Seed())
}

// ParseSigningKey reads a "whsk_<base64 seed>" private key.
func ParseSigningKey(s string) (ed25519.PrivateKey, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SigningKeyPrefix))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: signing key must be %q and %d base64 bytes", ErrInvalidSecret, SigningKeyPrefix, ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// FormatPublicKey writes a public key as "whpk_<base64>".
func FormatPublicKey(k ed25519.PublicKey) string {
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(k)
}

// ParsePublicKey reads a "whpk_<base64>" public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, PublicKeyPrefix))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key must be %q and %d base64 bytes", ErrInvalidSecret, PublicKeyPrefix, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// KeyID returns the RFC 7638 JWK thumbprint of a public key (base64url
// SHA-256 of its canonical JWK). It is derived, not stored, so the sender
// and the JWKS document can never disagree about a key's id.
func KeyID(k ed25519.PublicKey) string {
	canonical := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(k) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
