package projections

import (
	"encoding/base64"

	"github.com/webhookd/webhookd/domain"
)

// Cursors are opaque to clients: base64url of the read model's sort key.

func encodeCursor(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeCursor(c string) ([]byte, error) {
	if c == "" {
		return nil, nil
	}
	k, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(k) == 0 {
		return nil, domain.FieldErrorf(domain.EINVALID, "after", "the cursor is not one this API issued")
	}
	return k, nil
}
