package gqltest

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/internal/routes"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/metrics"
	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/verification"
)

// Server is webhookd's HTTP server (httpserver.Server, with the routes
// and the handler chain the serve command mounts) over a real core,
// listening on loopback.
type Server struct {
	Env *testenv.Env
	// HTTP is the production server; URL is its base URL.
	HTTP *httpserver.Server
	URL  string
	// HTTPClient is shared by the server's clients, so a test can close its
	// idle connections before counting goroutines.
	HTTPClient *http.Client
}

// Options vary the server NewServerWith builds. The zero value is what
// NewServer uses.
type Options struct {
	// Logger receives the HTTP adapter's and the resolvers' logs; nil
	// discards them.
	Logger *slog.Logger
	// BodyReadTimeout and IngestBodyReadTimeout replace the production
	// body read timeouts when not zero, so a test of a slow client need not
	// wait for them.
	BodyReadTimeout, IngestBodyReadTimeout time.Duration
	// WebsocketInitTimeout replaces graph.DefaultInitTimeout when not zero.
	WebsocketInitTimeout time.Duration
	// PortalFrameAncestors, PortalTheme and PublicURL are
	// --portal-frame-ancestors, --portal-theme-file's theme and
	// --public-url.
	PortalFrameAncestors []string
	PortalTheme          domain.PortalTheme
	PublicURL            string
	// Env is the core's options (testenv.Options); Env.Dir lets a test
	// close the core and serve it again on the same files.
	Env testenv.Options
}

// NewServer starts a core (testenv.New) and serves it through
// httpserver.Server until the test ends. The SSRF guard is off, as in
// testenv; AllowLoopback turns it on.
func NewServer(t testing.TB) *Server {
	t.Helper()
	return NewServerWith(t, Options{})
}

// NewServerWith is NewServer with opts.
func NewServerWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	env := testenv.NewWith(t, opts.Env)
	hs := httpserver.New(opts.Logger, metrics.New())
	if opts.BodyReadTimeout != 0 {
		hs.BodyReadTimeout = opts.BodyReadTimeout
	}
	if opts.IngestBodyReadTimeout != 0 {
		hs.RouteBodyReadTimeouts["POST /v1/events"] = opts.IngestBodyReadTimeout
	}
	mount(hs, env, opts)
	if err := hs.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve() }()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() {
		hc.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			t.Errorf("http shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("http serve: %v", err)
		}
	})
	return &Server{Env: env, HTTP: hs, URL: "http://" + hs.Addr(), HTTPClient: hc}
}

// mount mounts the routes the serve command mounts (routes.Mount),
// with the test-only GraphQL options: introspection on, a 1 s websocket
// ping.
func mount(hs *httpserver.Server, env *testenv.Env, opts Options) {
	routes.Mount(hs, env.Core, routes.Options{Logger: opts.Logger, PublicURL: opts.PublicURL,
		GraphQL:              graph.Options{Introspection: true, PingInterval: time.Second, InitTimeout: opts.WebsocketInitTimeout},
		PortalFrameAncestors: opts.PortalFrameAncestors, PortalTheme: opts.PortalTheme})
}

// GraphQLURL is the /graphql endpoint.
func (s *Server) GraphQLURL() string { return s.URL + "/graphql" }

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

// WaitSubscribers waits until at least n live subscriptions are registered
// with the broker, so a test changes something only once its subscription
// will see the change. It fails the test after 10 s.
func (s *Server) WaitSubscribers(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Env.Broker.Len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d live subscriptions after 10 s, want %d", s.Env.Broker.Len(), n)
		}
		time.Sleep(time.Millisecond) // polling a counter: there is no event to wait on
	}
}
