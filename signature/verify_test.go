package signature_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/signature"
)

const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

var t0 = time.Unix(1700000000, 0)

func clockAt(t time.Time) signature.Option {
	return signature.WithClock(func() time.Time { return t })
}

func signed(t *testing.T, secrets []string, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	s, err := signature.NewSigner(secrets)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	s.SetHeaders(h, id, ts, body)
	return h
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"msg_1","type":"a.b"}`)
	cases := []struct {
		name   string
		secret string
		now    time.Time
		edit   func(h http.Header) []byte // returns the body the receiver sees
		want   error
	}{
		{name: "OK", secret: secretA, now: t0},
		{name: "OKWithoutPrefix", secret: strings.TrimPrefix(secretA, "whsec_"), now: t0},
		{name: "OKAtToleranceEdge", secret: secretA, now: t0.Add(5 * time.Minute)},
		{name: "TamperedBody", secret: secretA, now: t0, want: signature.ErrInvalidSignature,
			edit: func(http.Header) []byte { return append(bytes.Clone(body), ' ') }},
		{name: "TamperedTimestamp", secret: secretA, now: t0, want: signature.ErrInvalidSignature,
			edit: func(h http.Header) []byte {
				h.Set(signature.HeaderTimestamp, strconv.FormatInt(t0.Unix()+1, 10))
				return body
			}},
		{name: "TamperedID", secret: secretA, now: t0, want: signature.ErrInvalidSignature,
			edit: func(h http.Header) []byte { h.Set(signature.HeaderID, "msg_2"); return body }},
		{name: "WrongSecret", secret: secretB, now: t0, want: signature.ErrInvalidSignature},
		{name: "TooOld", secret: secretA, now: t0.Add(5*time.Minute + time.Second), want: signature.ErrTimestampTooOld},
		{name: "TooNew", secret: secretA, now: t0.Add(-5*time.Minute - time.Second), want: signature.ErrTimestampTooNew},
		{name: "MissingID", secret: secretA, now: t0, want: signature.ErrMissingHeaders,
			edit: func(h http.Header) []byte { h.Del(signature.HeaderID); return body }},
		{name: "MissingTimestamp", secret: secretA, now: t0, want: signature.ErrMissingHeaders,
			edit: func(h http.Header) []byte { h.Del(signature.HeaderTimestamp); return body }},
		{name: "MissingSignature", secret: secretA, now: t0, want: signature.ErrMissingHeaders,
			edit: func(h http.Header) []byte { h.Del(signature.HeaderSignature); return body }},
		{name: "TimestampNotNumber", secret: secretA, now: t0, want: signature.ErrMalformedHeaders,
			edit: func(h http.Header) []byte { h.Set(signature.HeaderTimestamp, "2023-11-14T22:13:20Z"); return body }},
		{name: "SignatureWithoutScheme", secret: secretA, now: t0, want: signature.ErrInvalidSignature,
			edit: func(h http.Header) []byte {
				h.Set(signature.HeaderSignature, strings.TrimPrefix(h.Get(signature.HeaderSignature), "v1,"))
				return body
			}},
		{name: "SignatureNotBase64", secret: secretA, now: t0, want: signature.ErrInvalidSignature,
			edit: func(h http.Header) []byte { h.Set(signature.HeaderSignature, "v1,!!!not-base64"); return body }},
		{name: "RightMACWrongScheme", secret: secretA, now: t0, want: signature.ErrInvalidSignature,
			edit: func(h http.Header) []byte {
				h.Set(signature.HeaderSignature, "v2,"+strings.TrimPrefix(h.Get(signature.HeaderSignature), "v1,"))
				return body
			}},
		{name: "OneValidAmongMany", secret: secretA, now: t0,
			edit: func(h http.Header) []byte {
				valid := h.Get(signature.HeaderSignature)
				h.Set(signature.HeaderSignature, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,abc garbage "+valid+" v1a,AAAA")
				return body
			}},
		{name: "BadSecret", secret: "whsec_***", now: t0, want: signature.ErrInvalidSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := signed(t, []string{secretA}, "msg_1", t0, body)
			got := body
			if c.edit != nil {
				got = c.edit(h)
			}
			err := signature.NewVerifier(clockAt(c.now)).Verify(c.secret, h, got)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestRotationSignsWithEverySecret(t *testing.T) {
	body := []byte(`{}`)
	h := signed(t, []string{secretA, secretB}, "msg_rot", t0, body)
	if n := len(strings.Fields(h.Get(signature.HeaderSignature))); n != 2 {
		t.Fatalf("%d signatures, want 2", n)
	}
	v := signature.NewVerifier(clockAt(t0))
	for _, sec := range []string{secretA, secretB} {
		if err := v.Verify(sec, h, body); err != nil {
			t.Errorf("verify with %s: %v", sec, err)
		}
	}
	if err := v.Verify("whsec_"+strings.Repeat("A", 32), h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Errorf("third secret: %v", err)
	}
}

func TestVerifyAsymmetric(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(make([]byte, 64)))
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	s, err := signature.NewSigner([]string{secretA}, priv)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"x":1}`)
	h := http.Header{}
	s.SetHeaders(h, "msg_a", t0, body)
	if !strings.Contains(h.Get(signature.HeaderSignature), " v1a,") {
		t.Fatalf("no v1a entry in %q", h.Get(signature.HeaderSignature))
	}
	v := signature.NewVerifier(clockAt(t0))
	t.Run("OK", func(t *testing.T) {
		if err := v.VerifyAsymmetric(pub, h, body); err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(secretA, h, body); err != nil {
			t.Fatalf("v1 alongside v1a: %v", err)
		}
	})
	t.Run("WrongKey", func(t *testing.T) {
		if err := v.VerifyAsymmetric(otherPub, h, body); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Fatal(err)
		}
	})
	t.Run("TamperedBody", func(t *testing.T) {
		if err := v.VerifyAsymmetric(pub, h, []byte(`{"x":2}`)); !errors.Is(err, signature.ErrInvalidSignature) {
			t.Fatal(err)
		}
	})
	t.Run("TooOld", func(t *testing.T) {
		old := signature.NewVerifier(clockAt(t0.Add(time.Hour)))
		if err := old.VerifyAsymmetric(pub, h, body); !errors.Is(err, signature.ErrTimestampTooOld) {
			t.Fatal(err)
		}
	})
	t.Run("ShortKey", func(t *testing.T) {
		if err := v.VerifyAsymmetric(pub[:10], h, body); !errors.Is(err, signature.ErrInvalidSecret) {
			t.Fatal(err)
		}
	})
}

func TestWithTolerance(t *testing.T) {
	body := []byte(`{}`)
	h := signed(t, []string{secretA}, "msg_1", t0, body)
	v := signature.NewVerifier(clockAt(t0.Add(10*time.Minute)), signature.WithTolerance(time.Hour))
	if err := v.Verify(secretA, h, body); err != nil {
		t.Fatal(err)
	}
}

func TestNewSigner(t *testing.T) {
	if _, err := signature.NewSigner(nil); err == nil {
		t.Error("no secrets: want error")
	}
	if _, err := signature.NewSigner([]string{"whsec_%%%"}); !errors.Is(err, signature.ErrInvalidSecret) {
		t.Errorf("bad secret: %v", err)
	}
	if _, err := signature.NewSigner(nil, ed25519.PrivateKey{1, 2}); !errors.Is(err, signature.ErrInvalidSecret) {
		t.Errorf("bad key: %v", err)
	}
}

func TestSecrets(t *testing.T) {
	t.Run("NewSecret", func(t *testing.T) {
		s, err := signature.NewSecret(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(s, signature.SecretPrefix) {
			t.Fatalf("%q lacks prefix", s)
		}
		key, err := signature.ParseSecret(s)
		if err != nil || len(key) < signature.MinSecretBytes || len(key) > 32 || key[0] != 9 {
			t.Fatalf("ParseSecret(%q) = %x, %v", s, key, err)
		}
	})
	t.Run("NewSecretShortRead", func(t *testing.T) {
		if _, err := signature.NewSecret(bytes.NewReader(make([]byte, 3))); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("KeyRoundTrip", func(t *testing.T) {
		k, err := signature.NewSigningKey(bytes.NewReader(bytes.Repeat([]byte{3}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		k2, err := signature.ParseSigningKey(signature.FormatSigningKey(k))
		if err != nil || !k.Equal(k2) {
			t.Fatalf("signing key round trip: %v", err)
		}
		pub := k.Public().(ed25519.PublicKey)
		p2, err := signature.ParsePublicKey(signature.FormatPublicKey(pub))
		if err != nil || !pub.Equal(p2) {
			t.Fatalf("public key round trip: %v", err)
		}
		if _, err := signature.ParsePublicKey("whpk_AAAA"); err == nil {
			t.Fatal("short public key accepted")
		}
		if _, err := signature.ParseSigningKey("whsk_AAAA"); err == nil {
			t.Fatal("short signing key accepted")
		}
	})
}

// A Signer keeps keyed HMAC states for reuse: however often and from
// however many goroutines it signs, each signature is the one a fresh
// signer gives for that request, and verifies.
func TestSignerReusesKeyedStatesCorrectly(t *testing.T) {
	s, err := signature.NewSigner([]string{secretA, secretB})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id, body := fmt.Sprintf("msg_%d_%d", g, i), []byte(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))
				fresh, _ := signature.NewSigner([]string{secretA, secretB})
				if got, want := s.Signature(id, ts, body), fresh.Signature(id, ts, body); got != want {
					t.Errorf("%s: reused signer gave %q, a fresh one %q", id, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
