package signature_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/webhookd/webhookd/signature"
)

// TestInteropWithReferenceLibrary proves the claim the package exists for:
// a receiver using the official Standard Webhooks Go library accepts what
// our Signer sends, including both signatures during a rotation, and
// rejects tampering. The reference library reads the real clock, so the
// request is signed now.
func TestInteropWithReferenceLibrary(t *testing.T) {
	body := []byte(`{"id":"msg_interop","type":"invoice.paid","data":{"n":1}}`)
	s, err := signature.NewSigner([]string{secretA, secretB})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	s.SetHeaders(h, "msg_interop", time.Now(), body)
	for _, sec := range []string{secretA, secretB} {
		wh, err := standardwebhooks.NewWebhook(sec)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("reference library rejects secret %s: %v", sec, err)
		}
		if err := wh.Verify(append(body, '\n'), h); err == nil {
			t.Errorf("reference library accepts a tampered body")
		}
	}
}

// TestReferenceLibrarySignsWhatWeVerify checks the other direction: our
// Verifier accepts the reference library's signature.
func TestReferenceLibrarySignsWhatWeVerify(t *testing.T) {
	wh, err := standardwebhooks.NewWebhook(secretB)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"a":"b"}`)
	sig, err := wh.Sign("msg_ref", t0, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, "msg_ref")
	h.Set(standardwebhooks.HeaderWebhookTimestamp, "1700000000")
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	v := signature.NewVerifier(clockAt(t0))
	if err := v.Verify(secretB, h, body); err != nil {
		t.Fatalf("reference signature rejected: %v", err)
	}
	if err := v.Verify(secretA, h, body); !errors.Is(err, signature.ErrInvalidSignature) {
		t.Fatalf("wrong secret: %v", err)
	}
}
