package delivery_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/signature"
)

func loopbackGuard() *netguard.Guard {
	return &netguard.Guard{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
}

func TestSender(t *testing.T) {
	secret, _ := signature.NewSecret(rand.Reader)
	key, _ := signature.NewSigningKey(rand.Reader)
	var mu sync.Mutex // handlers of timed-out requests may still be running
	var got *http.Request
	var gotBody []byte
	last := func() (*http.Request, []byte) {
		mu.Lock()
		defer mu.Unlock()
		return got, gotBody
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, gotBody = r.Clone(context.Background()), body
		mu.Unlock()
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 10000)))
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/busy":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	s := delivery.NewSender(loopbackGuard(), 200*time.Millisecond)
	s.SigningKeys = append(s.SigningKeys, key)
	send := func(path string) delivery.Result {
		return s.Send(context.Background(), delivery.Request{
			URL: srv.URL + path, MessageID: "msg_1", Timestamp: time.Now(), Body: []byte(`{"id":"msg_1"}`),
			Secrets: []string{secret}, Headers: map[string]string{"X-Tenant": "acme"},
		})
	}

	t.Run("SignedV1AndV1a", func(t *testing.T) {
		res := send("/ok")
		got, gotBody := last()
		if res.Outcome.StatusCode != 200 || got.Header.Get("X-Tenant") != "acme" || got.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("outcome %+v, headers %v", res.Outcome, got.Header)
		}
		if err := signature.Verify(secret, got.Header, gotBody); err != nil {
			t.Fatalf("v1: %v", err)
		}
		rec := httptest.NewRecorder()
		httpserver.JWKSHandler(s.SigningKeys).ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
		keys, err := signature.ParseJWKS(rec.Body.Bytes())
		if err != nil || len(keys) != 1 {
			t.Fatalf("jwks: %v %d", err, len(keys))
		}
		for _, pub := range keys {
			if err := signature.VerifyAsymmetric(pub, got.Header, gotBody); err != nil {
				t.Fatalf("v1a with the published key: %v", err)
			}
		}
		if err := signature.Verify(secret, got.Header, append(gotBody, ' ')); err == nil {
			t.Fatal("a tampered body verified")
		}
	})
	t.Run("EachRequestSignedWithTheSecretsItCarries", func(t *testing.T) {
		// Signers are cached per set of secrets: a rotation (a new set)
		// must sign with the new secrets at once, and going back to the
		// old set with the old one, not with whichever was cached last.
		rotated, _ := signature.NewSecret(rand.Reader)
		for i, secrets := range [][]string{{secret}, {rotated, secret}, {rotated}, {secret}} {
			body := []byte(fmt.Sprintf(`{"id":"msg_%d"}`, i))
			res := s.Send(context.Background(), delivery.Request{URL: srv.URL + "/ok", MessageID: "msg_1", Timestamp: time.Now(), Body: body, Secrets: secrets})
			got, gotBody := last()
			if res.Outcome.StatusCode != 200 {
				t.Fatalf("request %d: outcome %+v", i, res.Outcome)
			}
			for _, sec := range secrets {
				if err := signature.Verify(sec, got.Header, gotBody); err != nil {
					t.Fatalf("request %d does not verify with a secret it carries: %v", i, err)
				}
			}
			if other := map[string]string{secret: rotated, rotated: secret}[secrets[0]]; len(secrets) == 1 {
				if err := signature.Verify(other, got.Header, gotBody); err == nil {
					t.Fatalf("request %d verifies with a secret it does not carry", i)
				}
			}
		}
	})
	t.Run("RedirectIsAFailureNotFollowed", func(t *testing.T) {
		res := send("/redirect")
		if got, _ := last(); res.Outcome.StatusCode != http.StatusFound || got.URL.Path != "/redirect" {
			t.Fatalf("outcome %+v, last request %s", res.Outcome, got.URL.Path)
		}
	})
	t.Run("ExcerptCapped", func(t *testing.T) {
		if res := send("/big"); len(res.Excerpt) != domain.MaxResponseExcerpt {
			t.Fatalf("excerpt is %d bytes", len(res.Excerpt))
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		if res := send("/slow"); res.Outcome.ErrClass != domain.ErrClassTimeout {
			t.Fatalf("outcome %+v (%s)", res.Outcome, res.ErrorMessage)
		}
	})
	t.Run("RetryAfterParsed", func(t *testing.T) {
		if res := send("/busy"); res.Outcome.StatusCode != 503 || res.Outcome.RetryAfter != 30*time.Second {
			t.Fatalf("outcome %+v", res.Outcome)
		}
	})
	t.Run("ConnectionRefused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		res := s.Send(context.Background(), delivery.Request{URL: "http://" + addr + "/", MessageID: "m", Timestamp: time.Now(), Secrets: []string{secret}})
		if res.Outcome.ErrClass != domain.ErrClassConnectionRefused {
			t.Fatalf("outcome %+v (%s)", res.Outcome, res.ErrorMessage)
		}
	})
	t.Run("SSRFRefused", func(t *testing.T) {
		blocked := delivery.NewSender(&netguard.Guard{}, time.Second)
		res := blocked.Send(context.Background(), delivery.Request{URL: srv.URL, MessageID: "m", Timestamp: time.Now(), Secrets: []string{secret}})
		if res.Outcome.StatusCode != 0 || !strings.Contains(res.ErrorMessage, "loopback") {
			t.Fatalf("a loopback URL was reached without the allow-list: %+v %s", res.Outcome, res.ErrorMessage)
		}
	})
}

// A request its MayStart refuses never leaves: the receiver sees nothing
// and the result says so. The dispatcher's last ownership check rides on
// it, so an instance resumed past its lease sends nothing.
func TestSenderMayStartRefused(t *testing.T) {
	var got int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got++
		mu.Unlock()
	}))
	defer srv.Close()
	secret, _ := signature.NewSecret(rand.Reader)
	s := delivery.NewSender(loopbackGuard(), 5*time.Second)
	req := delivery.Request{URL: srv.URL + "/in", MessageID: "msg_1", Timestamp: time.Now(), Body: []byte(`{}`), Secrets: []string{secret}}
	refused := req
	refused.MayStart = func() bool { return false }
	if res := s.Send(context.Background(), refused); !res.NotSent || res.Outcome.StatusCode != 0 {
		t.Fatalf("refused send: %+v", res)
	}
	allowed := req
	allowed.MayStart = func() bool { return true }
	if res := s.Send(context.Background(), allowed); res.NotSent || res.Outcome.StatusCode != http.StatusOK {
		t.Fatalf("allowed send: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if got != 1 {
		t.Fatalf("the receiver got %d requests, want only the allowed one", got)
	}
}
