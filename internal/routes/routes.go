// Package routes mounts webhookd's HTTP routes on the production server
// chain. The serve command and the test servers (internal/gqltest) both
// call Mount, so tests reach the same handlers through the same chain. It
// is apart from internal/wiring so that packages whose own tests build a
// core (web) do not import themselves through it.
package routes

import (
	"log/slog"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/internal/wiring"
	"github.com/webhookd/webhookd/web"
)

// Options are what differs between the routes serve mounts and a test's:
// GraphQL options, the public URL, and the --dev extras.
type Options struct {
	Logger    *slog.Logger
	PublicURL string
	GraphQL   graph.Options
	// DevKey is the key --dev offers the UI and the explorer; nil offers
	// none.
	DevKey func() string
	// Explorer mounts GraphiQL on /graphiql (--dev).
	Explorer bool
	// PortalFrameAncestors (--portal-frame-ancestors) may frame /portal;
	// PortalTheme is --portal-theme-file's default theme.
	PortalFrameAncestors []string
	PortalTheme          domain.PortalTheme
}

// Mount puts the core's routes on hs: /graphql, the verification file,
// /v1/events, /v1/deliveries/export, /.well-known/jwks.json, the portal
// routes (httpserver.Server.MountPortal), the UI on "/"
// and, with the explorer, /graphiql (hs itself serves /healthz, /readyz
// and /metrics).
func Mount(hs *httpserver.Server, c *wiring.Core, r Options) {
	resolver := &graph.Resolver{App: c.App, Logger: r.Logger, PublicURL: r.PublicURL}
	hs.Handle("/graphql", httpserver.ContinueTrace(c.App, graph.NewHandler(resolver, r.GraphQL)))
	hs.Handle("GET /webhooks/{id}/verification-file", httpserver.VerificationFileHandler(c.App))
	hs.Handle("POST /v1/events", httpserver.EventsHandler(c.App))
	hs.Handle("GET /v1/deliveries/export", httpserver.ExportHandler(c.App))
	hs.Handle("GET /.well-known/jwks.json", httpserver.JWKSHandler(c.Dispatcher.Sender.SigningKeys))
	// The Webhooks tab, on "/" (not "GET /", which would conflict with the
	// method-less /graphql route); the demo key is offered only in --dev.
	hs.MountPortal(c.App, httpserver.PortalOptions{PublicURL: r.PublicURL, Theme: r.PortalTheme})
	hs.Handle("/", web.Handler(web.Options{DevKey: r.DevKey, PortalFrameAncestors: r.PortalFrameAncestors}))
	if r.Explorer {
		explorer := graph.Explorer(graph.ExplorerOptions{Endpoint: "/graphql", DevKey: r.DevKey})
		hs.Handle("GET /graphiql", explorer)
		hs.Handle("GET /graphiql/", explorer)
	}
}
