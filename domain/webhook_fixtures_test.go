package domain

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"
)

// t0 is the fixed clock of the webhook and account tests.
var t0 = time.Date(2024, 5, 14, 9, 0, 0, 0, time.UTC)

// testSecret returns a well-formed signing secret made of byte b.
func testSecret(b byte) string {
	return "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

// testFile returns a well-formed verification file made of byte b.
func testFile(t testing.TB, b byte) VerificationFile {
	t.Helper()
	f, err := NewVerificationFile(bytes.NewReader(bytes.Repeat([]byte{b}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// validCreate is a create command that passes every rule.
func validCreate(t testing.TB) CreateWebhook {
	return CreateWebhook{
		WebhookID:        "wh1",
		AccountID:        "acc1",
		Name:             "Order updates",
		URL:              "https://hooks.example.com/in/smtpeter",
		EventTypes:       []string{"email.open", "email.bounce"},
		Description:      "bounces and opens",
		Headers:          map[string]string{"X-Tenant": "42"},
		RateLimit:        RateLimit{PerSecond: 50},
		Secret:           testSecret(1),
		VerificationFile: testFile(t, 1),
	}
}

// created is the event validCreate decides at t0.
func created(t testing.TB) WebhookCreated {
	return WebhookCreated{
		WebhookID:        "wh1",
		AccountID:        "acc1",
		Name:             "Order updates",
		URL:              "https://hooks.example.com/in/smtpeter",
		EventTypes:       []string{"email.bounce", "email.open"},
		Description:      "bounces and opens",
		Headers:          map[string]string{"X-Tenant": "42"},
		RateLimit:        RateLimit{PerSecond: 50, Burst: 50},
		MaxConcurrency:   DefaultMaxConcurrency,
		Secret:           testSecret(1),
		VerificationFile: testFile(t, 1),
		At:               t0,
	}
}

func ptr[T any](v T) *T { return &v }
