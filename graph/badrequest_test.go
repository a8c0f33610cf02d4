package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
)

// syncBuffer is a log sink that tests may read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A body that is not a GraphQL request is the client's mistake: 400 with
// BAD_REQUEST, never INTERNAL, and a short log line below ERROR however
// large the body was.
func TestUndecodableBodies(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := gqltest.NewServerWith(t, gqltest.Options{Logger: logger})
	c := srv.AccountClient(t, "acme", domain.ScopeAccount)

	batch := "[" + strings.Repeat(`{"query":"{ viewer { keyId } }"},`, 999) + `{"query":"{ viewer { keyId } }"}]`
	huge := `{"query": "{ viewer { keyId } }", "variables": {"pad": "` + strings.Repeat("x", 900<<10) + `"` // never closed
	for _, tc := range []struct{ name, body string }{
		{"MalformedJSON", `{"query": "{ viewer { keyId } }"`},
		{"NotJSON", `not json at all`},
		{"QueryNotString", `{"query": 5}`},
		{"VariablesNotObject", `{"query": "{ viewer { keyId } }", "variables": [1]}`},
		{"Empty", ``},
		{"Null", `null`},
		{"TrailingData", `{"query": "{ viewer { keyId } }"} {"query": "{ viewer { keyId } }"}`},
		{"Batch1000", batch},
		{"Malformed900KB", huge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(logs.String())
			r, err := c.PostRaw(context.Background(), "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].Code() != "BAD_REQUEST" {
				t.Fatalf("%d %.300s, want 400 with one BAD_REQUEST error", r.Status, r.Body)
			}
			if len(r.Body) > 1024 {
				t.Errorf("the answer is %d bytes: it quotes the body", len(r.Body))
			}
			added := logs.String()[before:]
			if len(added) > 1024 {
				t.Errorf("the refusal added %d bytes to the log: %.300s", len(added), added)
			}
			if strings.Contains(added, `"level":"ERROR"`) {
				t.Errorf("the refusal was logged at ERROR: %s", added)
			}
		})
	}

	// A valid request still works, and GraphQL syntax errors keep their code.
	c.MustData(t, `{ viewer { keyId } }`, nil, nil)
	r, err := c.PostRaw(context.Background(), "application/json", strings.NewReader(`{"query":"{ viewer { keyId "}`))
	if err != nil || !r.HasCode("GRAPHQL_PARSE_FAILED") {
		t.Errorf("a syntax error: %v %s, want GRAPHQL_PARSE_FAILED", err, r.Body)
	}
	// Unauthenticated clients are refused before their body is decoded.
	r, err = srv.Client("").PostRaw(context.Background(), "application/json", strings.NewReader(`{"query": 5}`))
	if err != nil || r.Status != http.StatusUnauthorized {
		t.Errorf("no key and a bad body: %v %d %s, want 401", err, r.Status, r.Body)
	}
}
