package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// TestTenantIsolation runs every operation with account B's key against
// account A's objects and checks that each answer is byte for byte the
// answer for an ID that does not exist, and that A's objects are untouched.
func TestTenantIsolation(t *testing.T) {
	srv := gqltest.NewServer(t)
	srv.AllowLoopback()
	a := srv.AccountClient(t, "acct-a", domain.ScopeAccount)
	aKey, _ := srv.Env.AccountKey(t, "acct-a", domain.ScopeAccount)
	b := srv.AccountClient(t, "acct-b", domain.ScopeAccount)
	// The receiver serves any verification file it is given and accepts
	// every delivery, so A's webhook can be verified and tested.
	var files sync.Map
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := files.Load(path.Base(r.URL.Path)); ok {
			io.WriteString(w, v.(string))
		}
	}))
	t.Cleanup(receiver.Close)
	hook := a.MustCreateWebhook(t, "a's webhook", receiver.URL+"/hooks/a")
	files.Store(hook.Verification.FileName, hook.Verification.FileContent)
	a.MustData(t, `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { verified } }`, map[string]any{"id": hook.ID}, nil)
	hook = *a.WebhookByID(t, hook.ID)
	if hook.Status != "ACTIVE" {
		t.Fatalf("A's webhook is %s after verification", hook.Status)
	}
	b.MustCreateWebhook(t, "b's webhook", "http://127.0.0.1:1/hooks/b")
	if _, ue := a.CreateWebhook(t, map[string]any{"name": "a's opens", "url": "http://127.0.0.1:1/hooks/o", "eventTypes": []string{"email.open"}}); len(ue) > 0 {
		t.Fatal(ue)
	}

	missingWebhook := domain.EncodeGlobalID("Webhook", uuid.NewString())
	random := make([]byte, 12)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	missingKey := hex.EncodeToString(random) // 24 hex digits, like a real key ID

	// snapshot is everything of A's that B must not change.
	snapshot := func() []byte {
		var buf bytes.Buffer
		buf.Write(a.Do(t, `query($id: ID!) { webhook(id: $id) { `+gqltest.WebhookFields+` secret previousSecretExpiresAt } }`, map[string]any{"id": hook.ID}).Body)
		buf.Write(a.Do(t, `query($id: ID!) { history(subject: $id) { nodes { type revision position data } } }`, map[string]any{"id": hook.ID}).Body)
		buf.Write(a.Do(t, `{ apiKeys { id revokedAt expiresAt } webhooks { totalCount } }`, nil).Body)
		return buf.Bytes()
	}
	before := snapshot()

	// A test send gives A a delivery to aim at; it fails (nothing listens
	// on port 1), which is fine: it exists.
	var sent struct {
		TestWebhook struct {
			Delivery struct {
				ID string `json:"id"`
			} `json:"delivery"`
			UserErrors []gqltest.UserError `json:"userErrors"`
		} `json:"testWebhook"`
	}
	a.MustData(t, `mutation($id: ID!) { testWebhook(input: {id: $id, type: "email.open"}) { delivery { id } userErrors { field message code } } }`, map[string]any{"id": hook.ID}, &sent)
	delivery := sent.TestWebhook.Delivery.ID
	if delivery == "" {
		t.Fatalf("testWebhook gave no delivery: %v", sent.TestWebhook.UserErrors)
	}
	kind, _, err := domain.DecodeGlobalID(delivery)
	if err != nil {
		t.Fatal(err)
	}
	missingDelivery := domain.EncodeGlobalID(kind, uuid.NewString())
	before = snapshot()

	cases := []struct {
		name, query string
		// theirs and missing are the values of $id for A's object and for
		// one that does not exist.
		theirs, missing string
	}{
		{"webhook", `query($id: ID!) { webhook(id: $id) { id name } }`, hook.ID, missingWebhook},
		{"nodeWebhook", `query($id: ID!) { node(id: $id) { id ... on Webhook { name } } }`, hook.ID, missingWebhook},
		{"nodeAccount", `query($id: ID!) { node(id: $id) { id } }`, domain.EncodeGlobalID("Account", "acct-a"), domain.EncodeGlobalID("Account", "acct-z")},
		{"history", `query($id: ID!) { history(subject: $id) { nodes { type } pageInfo { hasNextPage endCursor } } }`, hook.ID, missingWebhook},
		{"historyAccount", `query($id: ID!) { history(subject: $id) { nodes { type } } }`, domain.EncodeGlobalID("Account", "acct-a"), domain.EncodeGlobalID("Account", "acct-z")},
		{"webhooksFilter", `query($id: String!) { webhooks(filter: {eventType: $id}) { totalCount nodes { id } } }`, "email.open", "email.click"},
		{"apiKeys", `query($id: String) { apiKeys(account: $id) { id } }`, "acct-a", "acct-z"},
		{"updateWebhook", `mutation($id: ID!) { updateWebhook(input: {id: $id, name: "stolen"}) { webhook { id } userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"updateWebhookExpected", `mutation($id: ID!) { updateWebhook(input: {id: $id, expectedRevision: 0, url: "http://127.0.0.1:2/x"}) { webhook { id } userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"deleteWebhook", `mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedWebhookId userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"pauseWebhook", `mutation($id: ID!) { pauseWebhook(input: {id: $id}) { webhook { id } userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"resumeWebhook", `mutation($id: ID!) { resumeWebhook(input: {id: $id}) { webhook { id } userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"verifyWebhook", `mutation($id: ID!) { verifyWebhook(input: {id: $id}) { verified reason webhook { id } userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"rotateWebhookSecret", `mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { webhook { id secret } userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"deliveries", `query($id: ID!) { deliveries(webhook: $id) { nodes { id } pageInfo { hasNextPage } } }`, hook.ID, missingWebhook},
		{"stats", `query($id: ID!) { stats(webhook: $id) { attempts succeeded failed } }`, hook.ID, missingWebhook},
		{"delivery", `query($id: ID!) { delivery(id: $id) { id status attempts { number } } }`, delivery, missingDelivery},
		{"nodeDelivery", `query($id: ID!) { node(id: $id) { id } }`, delivery, missingDelivery},
		{"historyDelivery", `query($id: ID!) { history(subject: $id) { nodes { type } } }`, delivery, missingDelivery},
		{"testWebhook", `mutation($id: ID!) { testWebhook(input: {id: $id, type: "email.open"}) { delivery { id } userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"redeliver", `mutation($id: ID!) { redeliver(input: {delivery: $id}) { delivery { id } userErrors { field message code } } }`, delivery, missingDelivery},
		{"recoverDeliveries", `mutation($id: ID!) { recoverDeliveries(input: {webhook: $id, since: "2000-01-01T00:00:00Z"}) { count userErrors { field message code } } }`, hook.ID, missingWebhook},
		{"revokeApiKey", `mutation($id: String!) { revokeApiKey(input: {id: $id}) { apiKey { id } userErrors { field message code } } }`, aKey.KeyID, missingKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			theirs := b.Do(t, tc.query, map[string]any{"id": tc.theirs})
			missing := b.Do(t, tc.query, map[string]any{"id": tc.missing})
			if !bytes.Equal(theirs.Body, missing.Body) || theirs.Status != missing.Status {
				t.Errorf("another account's object is distinguishable from a missing one:\n theirs  %d %s\n missing %d %s", theirs.Status, theirs.Body, missing.Status, missing.Body)
			}
			if bytes.Contains(theirs.Body, []byte("a's webhook")) || bytes.Contains(theirs.Body, []byte(hook.Verification.FileContent)) {
				t.Errorf("response leaks account A's data: %s", theirs.Body)
			}
		})
	}

	t.Run("webhookUpdatedSubscription", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := srv.Dial(ctx, b.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// answer collects the operation's messages until it ends.
		answer := func(opID, sub, id string) string {
			t.Helper()
			if err := conn.Subscribe(ctx, opID, sub, map[string]any{"id": id}); err != nil {
				t.Fatal(err)
			}
			var out []string
			for {
				m, err := conn.Next(ctx)
				if err != nil {
					t.Fatalf("after %v: %v", out, err)
				}
				if m.ID != opID {
					t.Fatalf("message for operation %q while waiting for %q", m.ID, opID)
				}
				out = append(out, m.Type+" "+string(m.Payload))
				if m.Type == "complete" || m.Type == "error" {
					return strings.Join(out, "\n")
				}
			}
		}
		for _, sub := range []string{webhookUpdatedSub, `subscription($id: ID) { deliveryUpdated(webhook: $id) { id status } }`} {
			theirs, missing := answer("1", sub, hook.ID), answer("1", sub, missingWebhook)
			if theirs != missing || !strings.Contains(theirs, `"NOT_FOUND"`) {
				t.Errorf("%s\nto another account's webhook answered\n%s\nto a missing one\n%s", sub, theirs, missing)
			}
		}
	})

	t.Run("Unchanged", func(t *testing.T) {
		if after := snapshot(); !bytes.Equal(before, after) {
			t.Errorf("account A's objects changed:\n before %s\n after  %s", before, after)
		}
	})

	// An account-wide subscription sees only the account's own webhooks:
	// A's changes come first, yet B's is the first one B receives.
	t.Run("AccountWideSubscription", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := srv.Dial(ctx, b.Key)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Subscribe(ctx, "1", webhookUpdatedSub, nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return srv.Env.Broker.Len() == 1 })
		a.MustData(t, `mutation($id: ID!) { pauseWebhook(input: {id: $id}) { userErrors { code } } }`, map[string]any{"id": hook.ID}, nil)
		a.MustCreateWebhook(t, "a's second", "http://127.0.0.1:1/hooks/a2")
		own := b.MustCreateWebhook(t, "b's second", "http://127.0.0.1:1/hooks/b2")
		m, err := conn.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != "next" || !bytes.Contains(m.Payload, []byte(own.ID)) {
			t.Errorf("account-wide subscription got %s %s, want B's own webhook %s", m.Type, m.Payload, own.ID)
		}
	})
}

const webhookUpdatedSub = `subscription($id: ID) { webhookUpdated(id: $id) { id name revision } }`

func types(h []gqltest.HistoryEvent) []string {
	out := make([]string, len(h))
	for i, e := range h {
		out[i] = e.Type
	}
	return out
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
