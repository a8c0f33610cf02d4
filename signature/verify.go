package signature

import (
	"crypto/ed25519"
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a request's timestamp may lie from the
// receiver's clock. It bounds how long a captured request can be replayed.
const DefaultTolerance = 5 * time.Minute

// Verification errors. Test them with errors.Is.
var (
	// ErrMissingHeaders: webhook-id, webhook-timestamp or webhook-signature is absent.
	ErrMissingHeaders = errors.New("signature: missing webhook headers")
	// ErrMalformedHeaders: webhook-timestamp is not unix seconds.
	ErrMalformedHeaders = errors.New("signature: malformed webhook headers")
	// ErrInvalidSignature: no entry of webhook-signature matches.
	ErrInvalidSignature = errors.New("signature: no matching signature")
	// ErrTimestampTooOld: the request is older than the tolerance (a replay?).
	ErrTimestampTooOld = errors.New("signature: timestamp too old")
	// ErrTimestampTooNew: the request is dated further ahead than the tolerance.
	ErrTimestampTooNew = errors.New("signature: timestamp too new")
)

// Verifier checks incoming requests. The zero value is not usable; build one
// with NewVerifier.
type Verifier struct {
	now       func() time.Time
	tolerance time.Duration
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithClock replaces time.Now, so tests can verify old vectors without
// sleeping or disabling the replay check.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) { v.now = now }
}

// WithTolerance replaces DefaultTolerance.
func WithTolerance(d time.Duration) Option {
	return func(v *Verifier) { v.tolerance = d }
}

// NewVerifier returns a Verifier with a 5-minute tolerance and the system
// clock, unless options say otherwise.
func NewVerifier(opts ...Option) *Verifier {
	v := &Verifier{now: time.Now, tolerance: DefaultTolerance}
	for _, o := range opts {
		o(v)
	}
	return v
}

var defaultVerifier = NewVerifier()

// Verify checks a request with the default Verifier.
func Verify(secret string, headers http.Header, body []byte) error {
	return defaultVerifier.Verify(secret, headers, body)
}

// Verify checks that body and headers were signed with secret ("whsec_"
// form, prefix optional) within the tolerance. Any one matching v1 entry is
// enough, which is what lets a sender rotate secrets without downtime.
func (v *Verifier) Verify(secret string, headers http.Header, body []byte) error {
	key, err := ParseSecret(secret)
	if err != nil {
		return err
	}
	id, unix, sigs, err := v.check(headers)
	if err != nil {
		return err
	}
	want := macOf(key, id, unix, body)
	return match(sigs, SchemeSymmetric, func(got []byte) bool {
		return hmac.Equal(got, want)
	})
}

// VerifyAsymmetric checks a request's v1a (ed25519) signature against one
// public key, for example one taken from the sender's JWKS document.
func (v *Verifier) VerifyAsymmetric(pub ed25519.PublicKey, headers http.Header, body []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key of %d bytes", ErrInvalidSecret, len(pub))
	}
	id, unix, sigs, err := v.check(headers)
	if err != nil {
		return err
	}
	msg := signedContent(id, unix, body)
	return match(sigs, SchemeAsymmetric, func(got []byte) bool {
		return ed25519.Verify(pub, msg, got)
	})
}

// VerifyAsymmetric checks a request's v1a signature with the default Verifier.
func VerifyAsymmetric(pub ed25519.PublicKey, headers http.Header, body []byte) error {
	return defaultVerifier.VerifyAsymmetric(pub, headers, body)
}

// check reads the headers and enforces the timestamp tolerance. It returns
// the timestamp exactly as sent, because that string is what was signed.
func (v *Verifier) check(h http.Header) (id, unix, sigs string, err error) {
	id, unix, sigs = h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || unix == "" || sigs == "" {
		return "", "", "", ErrMissingHeaders
	}
	secs, err := strconv.ParseInt(unix, 10, 64)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: %s %q is not unix seconds", ErrMalformedHeaders, HeaderTimestamp, unix)
	}
	ts, now := time.Unix(secs, 0), v.now()
	switch {
	case now.Sub(ts) > v.tolerance:
		return "", "", "", ErrTimestampTooOld
	case ts.Sub(now) > v.tolerance:
		return "", "", "", ErrTimestampTooNew
	}
	return id, unix, sigs, nil
}

// match tries every "scheme,base64" entry of the header. Entries of other
// schemes or that fail to decode are skipped, not errors: a newer sender may
// add schemes this receiver does not know.
func match(header, scheme string, ok func(sig []byte) bool) error {
	for _, entry := range strings.Fields(header) {
		s, b64, found := strings.Cut(entry, ",")
		if !found || s != scheme {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		if ok(sig) {
			return nil
		}
	}
	return ErrInvalidSignature
}
