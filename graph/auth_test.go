package graph_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

const viewerQuery = `{ viewer { keyId scope account { name } } }`

// TestAuthentication checks that every kind of bad credential is refused
// with a code, and that scopes are enforced per field.
func TestAuthentication(t *testing.T) {
	srv := gqltest.NewServer(t)
	var now atomic.Pointer[time.Time]
	start := time.Now().UTC()
	now.Store(&start)
	srv.Env.App.Now = func() time.Time { return *now.Load() }
	ctx := context.Background()

	good := srv.AccountClient(t, "acct-a", domain.ScopeAccount)
	if r := good.MustData(t, viewerQuery, nil, nil); !strings.Contains(string(r.Body), `"ACCOUNT"`) {
		t.Fatalf("a valid key is refused or misreported: %s", r.Body)
	}

	revokedKey, err := srv.Env.App.CreateAPIKey(ctx, "acct-a", domain.ScopeAccount, "to revoke", 0)
	if err != nil {
		t.Fatal(err)
	}
	good.MustData(t, `mutation($id: String!) { revokeApiKey(input: {id: $id}) { userErrors { code } } }`, map[string]any{"id": revokedKey.Key.ID}, nil)

	expiringKey, err := srv.Env.App.CreateAPIKey(ctx, "acct-a", domain.ScopeAccount, "short-lived", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	srv.Client(expiringKey.Secret).MustData(t, viewerQuery, nil, nil) // valid until the clock moves
	later := start.Add(2 * time.Minute)
	now.Store(&later)

	// lastCharFlipped differs from a valid key only in its last character.
	lastCharFlipped := flipLast(good.Key)

	for _, tc := range []struct{ name, key string }{
		{"NoKey", ""},
		{"Malformed", "whk_not-a-key"},
		{"NotBearer", "Basic dXNlcjpwYXNz"},
		{"UnknownKey", "whk_0123456789abcdef01234567_" + strings.Repeat("A", 43)},
		{"LastCharDiffers", lastCharFlipped},
		{"Revoked", revokedKey.Secret},
		{"Expired", expiringKey.Secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := srv.Client(tc.key).Do(t, viewerQuery, nil)
			if r.Status != http.StatusUnauthorized || !r.HasCode(domain.EUNAUTHENTICATED) {
				t.Errorf("got %d %s, want 401 with UNAUTHENTICATED", r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), "revoked") || strings.Contains(string(r.Body), "expired") {
				t.Errorf("the answer tells why the key was refused: %s", r.Body)
			}
		})
	}

	t.Run("AuthenticateLastCharacter", func(t *testing.T) {
		if _, err := srv.Env.App.Authenticate(ctx, good.Key); err != nil {
			t.Fatalf("the genuine key is refused: %v", err)
		}
		_, err := srv.Env.App.Authenticate(ctx, lastCharFlipped)
		if domain.ErrorCode(err) != domain.EUNAUTHENTICATED {
			t.Errorf("a key differing in its last character: err %v, want UNAUTHENTICATED", err)
		}
	})

	publisher := srv.AccountClient(t, "platform", domain.ScopePublisher)
	admin := srv.AccountClient(t, "ops", domain.ScopeAdmin)
	const createKey = `mutation { createApiKey(input: {account: "acct-new", scope: ACCOUNT}) { secret userErrors { code } } }`
	for _, tc := range []struct {
		name   string
		client *gqltest.Client
		query  string
	}{
		{"PublisherCreateWebhook", publisher, `mutation { createWebhook(input: {name: "x", url: "https://example.com/", eventTypes: ["email.open"]}) { webhook { id } } }`},
		{"PublisherWebhooks", publisher, `{ webhooks { totalCount } }`},
		{"AccountCreateApiKey", good, createKey},
	} {
		t.Run("Forbidden"+tc.name, func(t *testing.T) {
			r := tc.client.Do(t, tc.query, nil)
			if !r.HasCode(domain.EFORBIDDEN) || strings.Contains(string(r.Body), "whk_") {
				t.Errorf("got %d %s, want a FORBIDDEN error and no key", r.Status, r.Body)
			}
		})
	}
	t.Run("AdminCreateApiKey", func(t *testing.T) {
		var out struct {
			CreateAPIKey struct{ Secret string } `json:"createApiKey"`
		}
		admin.MustData(t, createKey, nil, &out)
		srv.Client(out.CreateAPIKey.Secret).MustData(t, viewerQuery, nil, nil)
	})

	t.Run("WebsocketInit", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for _, tc := range []struct {
			name    string
			payload map[string]any
		}{
			{"NoPayload", nil},
			{"EmptyPayload", map[string]any{}},
			{"Malformed", map[string]any{"Authorization": "Bearer nope"}},
			{"Revoked", map[string]any{"authToken": revokedKey.Secret}},
			{"Expired", map[string]any{"Authorization": "Bearer " + expiringKey.Secret}},
		} {
			conn, err := gqltest.Dial(ctx, srv.GraphQLURL(), tc.payload)
			var refused *gqltest.RefusedError
			if !errors.As(err, &refused) {
				if conn != nil {
					conn.Close()
				}
				t.Errorf("%s: connection_init answered %v, want a refusal", tc.name, err)
				continue
			}
			if refused.Status != 4403 {
				t.Errorf("%s: closed with %d %q, want 4403 (graphql-transport-ws Forbidden)", tc.name, refused.Status, refused.Reason)
			}
		}
		for _, payload := range []map[string]any{{"Authorization": "Bearer " + good.Key}, {"authToken": good.Key}} {
			conn, err := gqltest.Dial(ctx, srv.GraphQLURL(), payload)
			if err != nil {
				t.Fatalf("a valid key in %v is refused: %v", payload, err)
			}
			conn.Close()
		}
	})

	// The websocket transport authenticates in connection_init, so the
	// HTTP middleware lets upgrades through; a plain request that merely
	// claims to upgrade must not run a query without a key.
	t.Run("FakeUpgradeHeader", func(t *testing.T) {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			req, _ := http.NewRequest(method, srv.GraphQLURL()+"?query=%7Bviewer%7BkeyId%7D%7D", strings.NewReader(`{"query":"{ viewer { keyId } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Connection", "Upgrade")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || strings.Contains(string(body), "keyId") {
				t.Errorf("%s with a fake Upgrade header and no key: %d %s", method, resp.StatusCode, body)
			}
		}
	})

	t.Run("VerificationFileRoute", func(t *testing.T) {
		for _, key := range []string{"", lastCharFlipped, expiringKey.Secret} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/webhooks/"+domain.EncodeGlobalID("Webhook", "x")+"/verification-file", nil)
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("key %.12q: status %d, want 401", key, resp.StatusCode)
			}
		}
	})
}

// flipLast changes a key's last character to another valid one.
func flipLast(key string) string {
	last := key[len(key)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return key[:len(key)-1] + string(repl)
}
