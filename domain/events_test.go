package domain

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// TestCodecRoundTrip encodes and decodes one full example of every webhook
// and account event; a lost field, a bad tag or a missing registration fails
// it.
func TestCodecRoundTrip(t *testing.T) {
	c := eventstore.NewCodec()
	RegisterEvents(c)
	expiry := t0.Add(time.Hour)
	events := []eventstore.Event{
		created(t),
		WebhookUpdated{WebhookID: "wh1", Name: "n", EventTypes: []string{"email.open"}, Description: "d",
			Headers: map[string]string{"X-A": "1"}, RateLimit: RateLimit{PerSecond: 5, Burst: 10}, MaxConcurrency: 8, At: t0},
		WebhookURLChanged{WebhookID: "wh1", URL: "https://x.example/", VerificationFile: testFile(t, 4), At: t0},
		WebhookDeleted{WebhookID: "wh1", At: t0},
		WebhookPaused{WebhookID: "wh1", At: t0},
		WebhookResumed{WebhookID: "wh1", At: t0},
		WebhookDisabled{WebhookID: "wh1", AccountID: "acc1", Reason: "410 Gone", At: t0},
		WebhookEnabled{WebhookID: "wh1", At: t0},
		WebhookVerificationFileIssued{WebhookID: "wh1", VerificationFile: testFile(t, 5), At: t0},
		WebhookVerified{WebhookID: "wh1", URL: "https://x.example/", At: t0},
		WebhookVerificationFailed{WebhookID: "wh1", URL: "https://x.example/", Reason: "got 404", At: t0},
		WebhookSecretRotated{WebhookID: "wh1", Secret: testSecret(9), PreviousExpiresAt: expiry, At: t0},
		AccountCreated{AccountID: "acc1", Name: "Shop", At: t0},
		APIKeyCreated{KeyID: "k1", AccountID: "acc1", Scope: ScopeAdmin, SecretHash: HashKeySecret("x"), Label: "ops", CreatedAt: t0, ExpiresAt: &expiry},
		APIKeyCreated{KeyID: "k2", AccountID: "acc1", Scope: ScopeAccount, SecretHash: HashKeySecret("y"), CreatedAt: t0},
		APIKeyRevoked{KeyID: "k1", AccountID: "acc1", At: t0},
		LeaseAcquired{Partition: 3, Owner: "a", Term: 2, ExpiresAt: expiry, TakenFrom: "b", At: t0},
		LeaseRenewed{Partition: 3, Owner: "a", Term: 2, ExpiresAt: expiry, At: t0},
		LeaseReleased{Partition: 3, Owner: "a", Term: 2, At: t0},
		MemberHeartbeat{Instance: "a", TTLMs: 10000, At: t0},
		MemberLeft{Instance: "a", At: t0},
	}
	seen := map[string]bool{}
	for i, e := range events {
		name := e.EventType()
		seen[name] = true
		if !strings.HasSuffix(name, ".v1") || !ValidEventTypeName(name) {
			t.Errorf("event type %q is not a dotted versioned name", name)
		}
		data, err := c.Encode(e)
		if err != nil {
			t.Fatalf("encode %s: %v", name, err)
		}
		if strings.Contains(name, "apikey") && strings.Contains(string(data.Data), `"secret"`) {
			t.Errorf("%s stores a secret: %s", name, data.Data)
		}
		got, err := c.Decode(eventstore.RecordedEvent{Type: data.Type, Data: data.Data, Position: eventstore.Position(i + 1)})
		if err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("%s round trip:\n got %#v\nwant %#v", name, got, e)
		}
	}
	if len(seen) != 20 {
		t.Errorf("%d distinct event types exercised, want all 20", len(seen))
	}
	if !c.Known("webhook.created.v1") || !c.Known("apikey.revoked.v1") || !c.Known(MessagePublished{}.EventType()) {
		t.Error("RegisterEvents misses webhook, account or message events")
	}
}
