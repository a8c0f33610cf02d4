package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/graph/generated"
)

// Limits of the GraphQL endpoint.
const (
	// MaxBodyBytes is the largest request body accepted; larger ones get 413.
	MaxBodyBytes = 1 << 20
	// MaxComplexity bounds how much work one operation may ask for.
	MaxComplexity = 1000
	// closeForbidden is graphql-transport-ws's close code for a refused
	// connection_init.
	closeForbidden = 4403
)

// DefaultInitTimeout is how long a websocket may stay open without sending
// connection_init; it is then closed with 4408.
const DefaultInitTimeout = 10 * time.Second

// Options configure the GraphQL handler.
type Options struct {
	Introspection bool
	// PingInterval is the websocket keep-alive; zero means 25 s.
	PingInterval time.Duration
	// InitTimeout replaces DefaultInitTimeout when not zero.
	InitTimeout time.Duration
}

// NewHandler returns the /graphql handler: POST, GET, websocket
// (graphql-transport-ws, authenticated in connection_init) and SSE, behind
// the body-size limit and bearer authentication.
func NewHandler(r *Resolver, opts Options) http.Handler {
	cfg := generated.Config{Resolvers: r}
	cfg.Directives.HasScope = hasScope
	setComplexity(&cfg.Complexity)
	srv := handler.New(generated.NewExecutableSchema(cfg))
	ping := opts.PingInterval
	if ping == 0 {
		ping = 25 * time.Second
	}
	initTimeout := opts.InitTimeout
	if initTimeout == 0 {
		initTimeout = DefaultInitTimeout
	}
	srv.AddTransport(transport.Websocket{
		Implementation:        protocolWebsocket{inner: transport.CoderWebsocketImplementation{}},
		InitTimeout:           initTimeout,
		KeepAlivePingInterval: ping,
		PingPongInterval:      ping,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			token := app.BearerToken(p.Authorization())
			if token == "" {
				if s, ok := p["authToken"].(string); ok {
					token = s
				}
			}
			if token == "" {
				if principal, ok := initSession(ctx, p); ok {
					return app.WithPrincipal(ctx, principal), nil, nil
				}
			}
			principal, err := r.App.Authenticate(ctx, token)
			if err != nil {
				// graphql-transport-ws asks servers to refuse with 4403;
				// gqlgen's default (1000) reads as a normal goodbye.
				ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
				ctx = transport.AppendCloseReason(ctx, domain.ErrorMessage(err))
				return ctx, nil, errors.New(domain.ErrorMessage(err))
			}
			return app.WithPrincipal(ctx, principal), nil, nil
		},
	})
	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(MaxComplexity))
	srv.AroundFields(guardPortalSessions)
	srv.SetErrorPresenter(presentError(r.Logger))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		r.Logger.ErrorContext(ctx, "graphql resolver panic", "panic", v)
		return errors.New("internal error")
	})
	return limitBody(Authenticate(r.App, checkRequest(r.Logger, srv)))
}

// limitBody reads a POST body up front, so the size limit holds for
// chunked requests too (which carry no Content-Length): over MaxBodyBytes
// is 413, a body that does not arrive within the server's read timeout is
// 408.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB", domain.ETOOLARGE)
			return
		}
		if r.Body == nil || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		switch {
		case isTimeout(err):
			writeError(w, http.StatusRequestTimeout, "the request body did not arrive in time", "TIMEOUT")
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, "could not read the request body", domain.EINVALID)
			return
		case len(body) > MaxBodyBytes:
			writeError(w, http.StatusRequestEntityTooLarge, "request body exceeds 1 MiB", domain.ETOOLARGE)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// checkRequest answers a JSON body that is not one GraphQL request with
// 400 BAD_REQUEST, before gqlgen, whose own decoder would quote the whole
// body in an error that is then logged. It runs after authentication, on
// the body limitBody has read into memory.
func checkRequest(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !isJSON(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, "could not read the request body", domain.EINVALID)
			return
		}
		if _, err := decodeRequest(body); err != nil {
			logger.InfoContext(r.Context(), "graphql request body refused", "bytes", len(body), "reason", domain.ErrorMessage(err))
			writeError(w, http.StatusBadRequest, domain.ErrorMessage(err), codeBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// isJSON reports whether r's body is for gqlgen's POST or SSE transport.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
