// Package signature signs and verifies webhook requests the Standard
// Webhooks way (https://www.standardwebhooks.com), so that a receiver can
// check them with any Standard Webhooks library or with this package.
//
// Every request carries three headers:
//
//	webhook-id:        the message id, stable across retries (deduplicate on it)
//	webhook-timestamp: unix seconds at signing time (reject replays on it)
//	webhook-signature: space-separated "v1,<base64 HMAC-SHA256>" and/or
//	                   "v1a,<base64 ed25519>" entries
//
// The signed content is id + "." + timestamp + "." + body. Symmetric secrets
// are written "whsec_<base64>". While a secret is being rotated the sender
// signs with the old and the new secret, so both receivers' configurations
// verify; a receiver accepts a request when any one entry matches.
//
// A receiver verifies like this (see Example):
//
//	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//	if err := signature.Verify(secret, r.Header, body); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//
// The body must be the raw bytes received, not re-encoded JSON.
package signature
