package signature_test

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"github.com/webhookd/webhookd/signature"
)

// RFC 8037 appendix A.1/A.3: the example Ed25519 key and its thumbprint.
const (
	rfc8037X   = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfc8037Kid = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
)

func TestKeyIDMatchesRFC8037(t *testing.T) {
	docs, err := signature.ParseJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + rfc8037X + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := docs[rfc8037Kid]
	if !ok {
		t.Fatalf("kid derived = %v, want %s", docs, rfc8037Kid)
	}
	if got := signature.KeyID(pub); got != rfc8037Kid {
		t.Fatalf("KeyID = %s, want %s", got, rfc8037Kid)
	}
}

func TestJWKSRoundTrip(t *testing.T) {
	var keys []ed25519.PublicKey
	for _, b := range []byte{1, 2} {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = b
		keys = append(keys, ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	}
	doc := signature.JWKS(keys)
	var raw struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 2 || raw.Keys[0]["kty"] != "OKP" || raw.Keys[0]["crv"] != "Ed25519" || raw.Keys[0]["kid"] != signature.KeyID(keys[0]) {
		t.Fatalf("document: %s", doc)
	}
	got, err := signature.ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !got[signature.KeyID(k)].Equal(k) {
			t.Errorf("key %s lost in round trip", signature.KeyID(k))
		}
	}
	if _, err := signature.ParseJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"}]}`)); err == nil {
		t.Error("short x accepted")
	}
	if m, err := signature.ParseJWKS([]byte(`{"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]}`)); err != nil || len(m) != 0 {
		t.Errorf("RSA key: %v %v", m, err)
	}
}
