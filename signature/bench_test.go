package signature_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/webhookd/webhookd/signature"
)

// BenchmarkSign measures what signing adds to each delivery attempt (one
// secret, and two during a rotation) for a 1 KiB body.
func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	for _, secrets := range [][]string{{secretA}, {secretA, secretB}} {
		s, err := signature.NewSigner(secrets)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(map[int]string{1: "OneSecret", 2: "Rotation"}[len(secrets)], func(b *testing.B) {
			h := http.Header{}
			b.ReportAllocs()
			for b.Loop() {
				s.SetHeaders(h, "msg_2mYz7dC3", t0, body)
			}
		})
	}
}

// BenchmarkVerify measures a receiver's cost per request.
func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	s, _ := signature.NewSigner([]string{secretA})
	h := http.Header{}
	s.SetHeaders(h, "msg_2mYz7dC3", t0, body)
	v := signature.NewVerifier(signature.WithClock(func() time.Time { return t0 }))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(secretA, h, body); err != nil {
			b.Fatal(err)
		}
	}
}
