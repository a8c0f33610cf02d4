package httpserver

import (
	"crypto/ed25519"
	"net/http"

	"github.com/webhookd/webhookd/signature"
)

// JWKSHandler serves /.well-known/jwks.json: the public keys that verify
// webhookd's v1a (ed25519) signatures. Without keys it serves an empty set.
func JWKSHandler(keys []ed25519.PrivateKey) http.Handler {
	pubs := make([]ed25519.PublicKey, len(keys))
	for i, k := range keys {
		pubs[i] = k.Public().(ed25519.PublicKey)
	}
	doc := signature.JWKS(pubs)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(doc)
	})
}
