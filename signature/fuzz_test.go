package signature_test

import (
	"crypto/ed25519"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/webhookd/webhookd/signature"
)

var fuzzNow = time.Unix(1_767_225_600, 0) // 2026-01-01T00:00:00Z

// FuzzVerify feeds arbitrary headers, bodies and secrets to both verifiers.
// Neither may panic; whatever they accept must be a signature over exactly
// that body, so flipping a byte of the body must make it fail; and a
// request signed by Signer must verify.
func FuzzVerify(f *testing.F) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	f.Add(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1767225600", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add(secret, "id", "-9223372036854775808", "v1a,AAAA v1,=== ,", []byte{})
	f.Add("whsec_", "id", "99999999999999999999", "v1,", []byte("x"))
	f.Add("not base64!", "\x00", "1767225600", "v1,"+string(make([]byte, 300)), []byte("{}"))
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	v := signature.NewVerifier(signature.WithClock(func() time.Time { return fuzzNow }))
	f.Fuzz(func(t *testing.T, secret, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(signature.HeaderID, id)
		h.Set(signature.HeaderTimestamp, ts)
		h.Set(signature.HeaderSignature, sig)
		if v.Verify(secret, h, body) == nil {
			tampered := append([]byte{}, body...)
			if len(tampered) == 0 {
				tampered = []byte{0}
			} else {
				tampered[0] ^= 1
			}
			if v.Verify(secret, h, tampered) == nil {
				t.Fatalf("accepted the signature %q for two bodies", sig)
			}
		}
		_ = v.VerifyAsymmetric(pub, h, body)

		s, err := signature.NewSigner([]string{secret}, priv)
		if err != nil {
			if _, perr := signature.ParseSecret(secret); perr == nil {
				t.Fatalf("NewSigner refused a secret ParseSecret accepts: %v", err)
			}
			return
		}
		if id == "" {
			return
		}
		signed := http.Header{}
		s.SetHeaders(signed, id, fuzzNow, body)
		if err := v.Verify(secret, signed, body); err != nil {
			t.Fatalf("own signature refused: %v (headers %v)", err, signed)
		}
		if err := v.VerifyAsymmetric(pub, signed, body); err != nil {
			t.Fatalf("own v1a signature refused: %v", err)
		}
		if got := signed.Get(signature.HeaderTimestamp); got != strconv.FormatInt(fuzzNow.Unix(), 10) {
			t.Fatalf("timestamp header %q", got)
		}
	})
}
