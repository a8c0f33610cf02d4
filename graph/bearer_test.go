package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// Every route accepts the key only in the Bearer scheme (whose name is
// case-insensitive), never bare or under another scheme.
func TestBearerSchemeOnly(t *testing.T) {
	srv := gqltest.NewServer(t)
	_, key := srv.Env.AccountKey(t, "acme", domain.ScopeAdmin)
	hook := srv.Client(key).MustCreateWebhook(t, "h", "https://example.com/in")
	routes := []struct{ method, path, body string }{
		{http.MethodPost, "/graphql", `{"query":"{ viewer { keyId } }"}`},
		{http.MethodPost, "/v1/events", `[]`},
		{http.MethodGet, "/webhooks/" + hook.ID + "/verification-file", ""},
		{http.MethodGet, "/v1/deliveries/export?webhook=" + hook.ID, ""},
	}
	status := func(method, path, body, auth string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		resp, err := srv.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, auth := range []string{"Bearer " + key, "bearer " + key, "BEARER  " + key} {
		for _, r := range routes {
			if got := status(r.method, r.path, r.body, auth); got != http.StatusOK {
				t.Errorf("%s %s with %q: %d, want 200", r.method, r.path, strings.Replace(auth, key, "KEY", 1), got)
			}
		}
	}
	refused := []string{key, "Basic " + key, "Token " + key, "Bearer", "Bearer ", "Bearer" + key, "Bearer " + key + " extra", "Bearer\t" + key}
	for _, auth := range refused {
		for _, r := range routes {
			if got := status(r.method, r.path, r.body, auth); got != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401", r.method, r.path, strings.Replace(auth, key, "KEY", 1), got)
			}
		}
	}
	t.Run("WebsocketInit", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, auth := range refused {
			_, err := gqltest.Dial(ctx, srv.GraphQLURL(), map[string]any{"Authorization": auth})
			var refusal *gqltest.RefusedError
			if !errors.As(err, &refusal) || refusal.Status != 4403 {
				t.Errorf("connection_init with Authorization %q: %v, want 4403", strings.Replace(auth, key, "KEY", 1), err)
			}
		}
		conn, err := gqltest.Dial(ctx, srv.GraphQLURL(), map[string]any{"Authorization": "bearer " + key})
		if err != nil {
			t.Fatalf("connection_init with a lower-case bearer: %v", err)
		}
		conn.Close()
	})
}
