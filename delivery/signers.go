package delivery

import (
	"crypto/ed25519"
	"strings"
	"sync"

	"github.com/webhookd/webhookd/signature"
)

// signerCacheSize bounds the signers a Sender keeps: one per webhook's
// current set of secrets. Past it the cache starts over.
const signerCacheSize = 4096

// signerCache keeps the signer of each set of secrets, so an attempt
// neither decodes its webhook's secrets nor keys a fresh HMAC with them
// (the signer pools keyed states). A rotation makes a new set, and so a
// new signer; the old one goes when the cache starts over.
type signerCache struct {
	mu sync.Mutex
	m  map[string]*signature.Signer
}

func (c *signerCache) get(secrets []string, keys []ed25519.PrivateKey) (*signature.Signer, error) {
	key := strings.Join(secrets, " ") // secrets are base64: no spaces
	c.mu.Lock()
	signer, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return signer, nil
	}
	signer, err := signature.NewSigner(secrets, keys...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= signerCacheSize {
		c.m = map[string]*signature.Signer{}
	}
	c.m[key] = signer
	c.mu.Unlock()
	return signer, nil
}
