package graph_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
)

// TestIntrospectionOption checks that Options.Introspection switches
// schema introspection on and off, while ordinary queries keep working.
func TestIntrospectionOption(t *testing.T) {
	env := testenv.New(t)
	_, key := env.AccountKey(t, "acct-a", domain.ScopeAccount)
	for _, allowed := range []bool{true, false} {
		h := graph.NewHandler(&graph.Resolver{App: env.App, Logger: slog.New(slog.DiscardHandler)}, graph.Options{Introspection: allowed})
		srv := httptest.NewServer(h)
		c := &gqltest.Client{URL: srv.URL, Key: key}
		r := c.Do(t, `{ __schema { queryType { name } } }`, nil)
		if got := len(r.Errors) == 0; got != allowed {
			t.Errorf("Introspection %v: __schema answered %d %s", allowed, r.Status, r.Body)
		}
		c.MustData(t, `{ viewer { keyId } }`, nil, nil)
		srv.Close()
	}
}
