package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// A subscription must not outlive its key: once the key is revoked, the
// next change ends the subscription instead of being delivered.
func TestSubscriptionEndsWhenKeyRevoked(t *testing.T) {
	srv := gqltest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, key := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	owner := srv.Client(key)
	hook := owner.MustCreateWebhook(t, "watched", "https://example.com/in")

	_, watcherKey := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	conn, err := srv.Dial(ctx, watcherKey)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Subscribe(ctx, "1", `subscription($id: ID) { webhookUpdated(id: $id) { id name } }`, map[string]any{"id": hook.ID}); err != nil {
		t.Fatal(err)
	}
	rename := func(name string) {
		t.Helper()
		owner.MustData(t, `mutation($id: ID!, $n: String!) { updateWebhook(input: {id: $id, name: $n}) { userErrors { code } } }`, map[string]any{"id": hook.ID, "n": name}, nil)
	}
	srv.WaitSubscribers(t, 1)
	rename("first")
	if m, err := conn.Next(ctx); err != nil || m.Type != "next" {
		t.Fatalf("before revocation: %+v %v", m, err)
	}

	watcher, err := srv.Env.App.Authenticate(ctx, watcherKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Env.App.RevokeAPIKey(ctx, app.Principal{AccountID: p.AccountID, Scope: domain.ScopeAccount}, watcher.KeyID); err != nil {
		t.Fatal(err)
	}
	rename("second")
	m, err := conn.Next(ctx)
	if err == nil && m.Type == "next" {
		t.Fatalf("a revoked key still receives updates: %s", m.Payload)
	}
}
