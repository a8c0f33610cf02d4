package gqltest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/verification"
)

// Server is the GraphQL endpoint and the verification-file route over a
// real core, listening on loopback.
type Server struct {
	Env  *testenv.Env
	HTTP *httptest.Server
	// HTTPClient is shared by the server's clients, so a test can close its
	// idle connections before counting goroutines.
	HTTPClient *http.Client
}

// NewServer starts a core (testenv.New) and serves /graphql and
// /webhooks/{id}/verification-file over it until the test ends. The SSRF
// guard is off, as in testenv; AllowLoopback turns it on.
func NewServer(t testing.TB) *Server {
	t.Helper()
	env := testenv.New(t)
	mux := http.NewServeMux()
	resolver := &graph.Resolver{App: env.App, Broker: env.Broker, Logger: slog.New(slog.DiscardHandler)}
	mux.Handle("/graphql", graph.NewHandler(resolver, graph.Options{Introspection: true, PingInterval: time.Second}))
	mux.Handle("GET /webhooks/{id}/verification-file", httpserver.VerificationFileHandler(env.App))
	srv := httptest.NewServer(mux)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		srv.Close()
	})
	return &Server{Env: env, HTTP: srv, HTTPClient: hc}
}

// GraphQLURL is the /graphql endpoint.
func (s *Server) GraphQLURL() string { return s.HTTP.URL + "/graphql" }

// Client returns a client that sends key.
func (s *Server) Client(key string) *Client {
	return &Client{URL: s.GraphQLURL(), Key: key, HTTP: s.HTTPClient}
}

// AccountClient creates a key of scope for account and returns a client
// that sends it.
func (s *Server) AccountClient(t testing.TB, account string, scope domain.KeyScope) *Client {
	t.Helper()
	_, key := s.Env.AccountKey(t, account, scope)
	return s.Client(key)
}

// AllowLoopback turns the SSRF guard on with loopback allowed, and makes
// verification fetch through it, so callbacks on httptest servers work.
func (s *Server) AllowLoopback() {
	g := &netguard.Guard{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	s.Env.App.Guard = g
	s.Env.App.Verifier = verification.New(g)
}

// Dial opens a graphql-transport-ws connection authenticated with key.
func (s *Server) Dial(ctx context.Context, key string) (*Conn, error) {
	var payload map[string]any
	if key != "" {
		payload = map[string]any{"Authorization": "Bearer " + key}
	}
	return Dial(ctx, s.GraphQLURL(), payload)
}
