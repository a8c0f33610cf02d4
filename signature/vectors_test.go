package signature_test

import (
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/webhookd/webhookd/signature"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the current signer")

// vector is one entry of testdata/vectors.json: everything a receiver in
// any language needs to check its verifier against ours.
type vector struct {
	Name        string   `json:"name"`
	Secrets     []string `json:"secrets,omitempty"`
	SigningKeys []string `json:"signing_keys,omitempty"`
	PublicKeys  []string `json:"public_keys,omitempty"`
	ID          string   `json:"id"`
	Timestamp   int64    `json:"timestamp"`
	Body        string   `json:"body"`
	Signature   string   `json:"signature"`
}

const vectorsFile = "testdata/vectors.json"

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	if len(vs) < 4 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func signerFor(t *testing.T, v vector) *signature.Signer {
	t.Helper()
	var keys []ed25519.PrivateKey
	for _, s := range v.SigningKeys {
		k, err := signature.ParseSigningKey(s)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	s, err := signature.NewSigner(v.Secrets, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func headersOf(v vector) http.Header {
	h := http.Header{}
	h.Set(signature.HeaderID, v.ID)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(v.Timestamp, 10))
	h.Set(signature.HeaderSignature, v.Signature)
	return h
}

// TestPublishedVector pins the example published with the Standard
// Webhooks reference libraries (their Go TestWebhookSign). If this fails,
// no third-party receiver will accept what we send.
func TestPublishedVector(t *testing.T) {
	s, err := signature.NewSigner([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Signature("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature = %s, want %s", got, want)
	}
}

func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			ts := time.Unix(v.Timestamp, 0)
			if got := signerFor(t, v).Signature(v.ID, ts, []byte(v.Body)); got != v.Signature {
				t.Fatalf("signature = %q, want %q", got, v.Signature)
			}
			ver := signature.NewVerifier(signature.WithClock(func() time.Time { return ts }))
			for _, sec := range v.Secrets {
				if err := ver.Verify(sec, headersOf(v), []byte(v.Body)); err != nil {
					t.Errorf("verify with %s: %v", sec, err)
				}
			}
			for _, p := range v.PublicKeys {
				pub, err := signature.ParsePublicKey(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := ver.VerifyAsymmetric(pub, headersOf(v), []byte(v.Body)); err != nil {
					t.Errorf("verify with %s: %v", p, err)
				}
			}
		})
	}
}

// writeVectors regenerates the file from fixed inputs. Run it once with
// `go test ./signature -run TestVectors -update` and review the diff: a
// changed signature for an unchanged input is a breaking change.
func writeVectors(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	key := ed25519.NewKeyFromSeed(seed)
	vs := []vector{
		{Name: "published-example", Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: 1614265330, Body: `{"test": 2432232314}`},
		{Name: "empty-body", Secrets: []string{"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"},
			ID: "msg_empty", Timestamp: 1700000000, Body: ``},
		{Name: "unicode-body", Secrets: []string{"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"},
			ID: "msg_2mYz7dC3", Timestamp: 1700000123,
			Body: `{"id":"msg_2mYz7dC3","type":"invoice.paid","data":{"name":"Zoë 🚀","amount":12.5}}`},
		{Name: "rotation-two-secrets", Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"},
			ID: "msg_rot", Timestamp: 1700000456, Body: `{"rotating":true}`},
		{Name: "asymmetric-v1a", SigningKeys: []string{signature.FormatSigningKey(key)},
			PublicKeys: []string{signature.FormatPublicKey(key.Public().(ed25519.PublicKey))},
			ID:         "msg_asym", Timestamp: 1700000789, Body: `{"asym":1}`},
	}
	for i := range vs {
		vs[i].Signature = signerFor(t, vs[i]).Signature(vs[i].ID, time.Unix(vs[i].Timestamp, 0), []byte(vs[i].Body))
	}
	out, err := json.MarshalIndent(vs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
