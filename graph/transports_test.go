package graph_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

func TestGETTransport(t *testing.T) {
	srv := gqltest.NewServer(t)
	p, key := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	req, _ := http.NewRequest(http.MethodGet, srv.GraphQLURL()+"?query="+url.QueryEscape(`{ viewer { keyId scope } }`), nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), p.KeyID) || !strings.Contains(string(body), `"ACCOUNT"`) {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
}

// Subscriptions also work over server-sent events, for clients that cannot
// open websockets, through the server serve runs (whose response wrappers
// must keep http.Flusher). The stream outlives the body read timeout: the
// deadline that bounds reading the request must not cut the response.
func TestSSETransport(t *testing.T) {
	const bodyTimeout = 100 * time.Millisecond
	srv := gqltest.NewServerWith(t, gqltest.Options{BodyReadTimeout: bodyTimeout})
	_, key := srv.Env.AccountKey(t, "acme", domain.ScopeAccount)
	client := srv.Client(key)
	hook := client.MustCreateWebhook(t, "sse", "https://example.com/in")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := `{"query":"subscription($id: ID) { webhookUpdated(id: $id) { id name } }","variables":{"id":"` + hook.ID + `"}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.GraphQLURL(), strings.NewReader(q))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("SSE answered %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	srv.WaitSubscribers(t, 1)
	// Let the body read deadline pass: what is checked is that nothing
	// happens then, so there is no event to wait on instead.
	<-time.After(3 * bodyTimeout)
	client.MustData(t, `mutation($id: ID!) { updateWebhook(input: {id: $id, name: "renamed"}) { userErrors { code } } }`, map[string]any{"id": hook.ID}, nil)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data:") && strings.Contains(line, `"renamed"`) {
			return
		}
	}
	t.Fatalf("no update arrived over SSE: %v", sc.Err())
}
