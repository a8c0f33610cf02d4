package signature

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// JWK is one JSON Web Key as RFC 8037 writes an Ed25519 public key.
type JWK struct {
	Kty string `json:"kty"` // always "OKP"
	Crv string `json:"crv"` // always "Ed25519"
	Kid string `json:"kid"` // KeyID of the key
	Use string `json:"use"` // always "sig"
	Alg string `json:"alg"` // always "EdDSA"
	X   string `json:"x"`   // base64url public key, no padding
}

type jwkSet struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the JSON Web Key Set document served at
// /.well-known/jwks.json, from which receivers fetch the public keys that
// verify v1a signatures. Keys appear in the order given; list the current
// key first and keep retired keys for their overlap window.
func JWKS(keys []ed25519.PublicKey) []byte {
	set := jwkSet{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, JWK{
			Kty: "OKP", Crv: "Ed25519", Kid: KeyID(k), Use: "sig", Alg: "EdDSA",
			X: base64.RawURLEncoding.EncodeToString(k),
		})
	}
	out, err := json.Marshal(set)
	if err != nil {
		// Marshalling a struct of strings cannot fail.
		panic(err)
	}
	return out
}

// ParseJWKS reads the Ed25519 keys of a JWKS document, keyed by kid, for
// receivers that fetch the sender's key set. Keys of other types are
// skipped, as RFC 7517 asks.
func ParseJWKS(doc []byte) (map[string]ed25519.PublicKey, error) {
	var set jwkSet
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, fmt.Errorf("signature: parse jwks: %w", err)
	}
	out := make(map[string]ed25519.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("signature: parse jwks: key %q: bad x", k.Kid)
		}
		kid := k.Kid
		if kid == "" {
			kid = KeyID(x)
		}
		out[kid] = ed25519.PublicKey(x)
	}
	return out, nil
}
