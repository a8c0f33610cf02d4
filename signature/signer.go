package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Header names, lower-case as the spec writes them. net/http canonicalises
// them on the wire ("Webhook-Id"); HTTP header names are case-insensitive.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Signature scheme prefixes inside the webhook-signature header.
const (
	SchemeSymmetric  = "v1"  // HMAC-SHA256
	SchemeAsymmetric = "v1a" // ed25519
)

// Signer signs outgoing requests with every secret and key it holds, so a
// rotation can keep the old secret valid for an overlap window simply by
// constructing the signer with both. A Signer is immutable and safe for
// concurrent use.
type Signer struct {
	secrets [][]byte
	// macs holds, for each secret, HMAC states keyed with it: keying one
	// hashes the secret into two SHA-256 states, which a reset state
	// already holds.
	macs []*sync.Pool
	keys []ed25519.PrivateKey
}

// NewSigner builds a Signer from "whsec_" secrets (v1 signatures) and
// ed25519 private keys (v1a signatures). At least one of either is needed.
func NewSigner(secrets []string, keys ...ed25519.PrivateKey) (*Signer, error) {
	if len(secrets) == 0 && len(keys) == 0 {
		return nil, errors.New("signature: new signer: no secret or key")
	}
	s := &Signer{}
	for i, sec := range secrets {
		key, err := ParseSecret(sec)
		if err != nil {
			return nil, fmt.Errorf("signature: new signer: secret %d: %w", i, err)
		}
		s.secrets = append(s.secrets, key)
		s.macs = append(s.macs, &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }})
	}
	for i, k := range keys {
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("signature: new signer: key %d: %w: %d bytes", i, ErrInvalidSecret, len(k))
		}
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// Signature returns the webhook-signature header value for a request: the
// v1 entries, one per secret in order, then the v1a entries, one per key,
// separated by single spaces.
func (s *Signer) Signature(id string, ts time.Time, body []byte) string {
	unix := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	var sum [sha256.Size]byte
	for i := range s.secrets {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(SchemeSymmetric + ",")
		m := s.macs[i].Get().(hash.Hash)
		b.WriteString(base64.StdEncoding.EncodeToString(macWith(m, id, unix, body, sum[:0])))
		m.Reset()
		s.macs[i].Put(m)
	}
	if len(s.keys) > 0 {
		msg := signedContent(id, unix, body)
		for _, k := range s.keys {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(SchemeAsymmetric + ",")
			b.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(k, msg)))
		}
	}
	return b.String()
}

// SetHeaders sets the three Standard Webhooks headers on h. Each attempt of
// a delivery is signed afresh with the time of that attempt, while id stays
// the message id so the receiver can deduplicate.
func (s *Signer) SetHeaders(h http.Header, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, s.Signature(id, ts, body))
}

// macOf computes HMAC-SHA256(key, id.ts.body) without first concatenating
// the body into a new buffer, since bodies may be large.
func macOf(key []byte, id, unix string, body []byte) []byte {
	return macWith(hmac.New(sha256.New, key), id, unix, body, nil)
}

// macWith is macOf on a fresh HMAC state m, appending the MAC to out.
func macWith(m hash.Hash, id, unix string, body, out []byte) []byte {
	io.WriteString(m, id)
	m.Write([]byte{'.'})
	io.WriteString(m, unix)
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(out)
}

// signedContent is the byte string both schemes sign.
func signedContent(id, unix string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(unix)+2+len(body))
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, unix...)
	msg = append(msg, '.')
	return append(msg, body...)
}
