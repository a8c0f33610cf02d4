// Package cursor makes the read models' page cursors: opaque to clients,
// base64url of the read model's sort key.
package cursor

import (
	"encoding/base64"

	"github.com/webhookd/webhookd/domain"
)

// Encode is the cursor of the row with sort key key.
func Encode(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

// Decode is Encode's inverse; "" is the start of the listing, and a
// cursor this API did not issue is the caller's mistake (EINVALID).
func Decode(c string) ([]byte, error) {
	if c == "" {
		return nil, nil
	}
	k, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(k) == 0 {
		return nil, domain.FieldErrorf(domain.EINVALID, "after", "the cursor is not one this API issued")
	}
	return k, nil
}
