package domain

import (
	"encoding/base64"
	"testing"
)

func TestGlobalID(t *testing.T) {
	for _, tc := range []struct{ kind, id string }{
		{"Webhook", "01HXZ3N4Q8"},
		{"Delivery", "7f1c2e4a-9d3b-4f6e-8a1c-2b3d4e5f6a7b"},
		{"APIKey", "id:with:colons"},
		{"Webhook", "ünïcode/and spaces"},
	} {
		gid := EncodeGlobalID(tc.kind, tc.id)
		kind, id, err := DecodeGlobalID(gid)
		if err != nil || kind != tc.kind || id != tc.id {
			t.Errorf("round trip of %s:%s via %q = %q, %q, %v", tc.kind, tc.id, gid, kind, id, err)
		}
	}
	if gid := EncodeGlobalID("Webhook", "wh1"); gid != "V2ViaG9vazp3aDE" {
		t.Errorf("EncodeGlobalID = %q; the encoding is part of the API and must not change", gid)
	}
	t.Run("PaddingAccepted", func(t *testing.T) {
		padded := base64.URLEncoding.EncodeToString([]byte("Webhook:wh1"))
		if kind, id, err := DecodeGlobalID(padded); err != nil || kind != "Webhook" || id != "wh1" {
			t.Fatalf("DecodeGlobalID(%q) = %q, %q, %v", padded, kind, id, err)
		}
	})
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct{ name, gid string }{
		{"Empty", ""},
		{"NotBase64", "%%%"},
		{"StdBase64Chars", "V2ViaG9vazp+/w"},
		{"NoColon", enc("Webhookwh1")},
		{"EmptyKind", enc(":wh1")},
		{"EmptyID", enc("Webhook:")},
		{"KindWithSpace", enc("Web hook:wh1")},
		{"KindStartsWithDigit", enc("1Webhook:wh1")},
		{"TooLong", string(make([]byte, 600))},
	} {
		t.Run("Err"+tc.name, func(t *testing.T) {
			_, _, err := DecodeGlobalID(tc.gid)
			e := UserErrors(err)
			if len(e) != 1 || e[0].Code != EINVALID || e[0].Field != "id" {
				t.Fatalf("DecodeGlobalID(%q) = %v, want an INVALID id error", tc.gid, err)
			}
		})
	}
}

func TestWebhookStreamNames(t *testing.T) {
	if WebhookStream("wh1") != "webhook-wh1" || AccountStream("acc1") != "account-acc1" {
		t.Fatal("stream names changed")
	}
	if id, ok := WebhookIDFromStream("webhook-wh-1"); !ok || id != "wh-1" {
		t.Fatalf("WebhookIDFromStream = %q, %v", id, ok)
	}
	for _, s := range []string{"webhook-", "account-acc1", "webhooks-x", "webhook"} {
		if _, ok := WebhookIDFromStream(s); ok {
			t.Errorf("WebhookIDFromStream(%q) succeeded", s)
		}
	}
	if id, ok := AccountIDFromStream(AccountStream("a")); !ok || id != "a" {
		t.Fatalf("AccountIDFromStream = %q, %v", id, ok)
	}
}
