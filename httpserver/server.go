// Package httpserver is webhookd's HTTP adapter: it mounts the GraphQL
// endpoint, the REST routes, the UI and the operational endpoints
// (/healthz, /readyz, /metrics) on one mux, and runs the listener with a
// graceful shutdown.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/webhookd/webhookd/metrics"
)

// ReadinessCheck reports nil once a component is ready to serve, or an
// error that says what it is still waiting for.
type ReadinessCheck func(ctx context.Context) error

// Body read limits. A request body must arrive within its route's
// timeout, so a client that dribbles bytes cannot hold a connection and a
// handler indefinitely; the ingest route gets longer because its bodies
// may be a few megabytes.
const (
	// DefaultBodyReadTimeout bounds reading a body on every route without
	// its own timeout (GraphQL bodies are at most 1 MiB).
	DefaultBodyReadTimeout = 10 * time.Second
	// IngestBodyReadTimeout bounds reading a POST /v1/events body.
	IngestBodyReadTimeout = 60 * time.Second
)

// Server serves webhookd over HTTP.
type Server struct {
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// BodyReadTimeout bounds reading one request body on routes not named
	// in RouteBodyReadTimeouts. Set it (and the map) before Serve.
	BodyReadTimeout time.Duration
	// RouteBodyReadTimeouts holds the body read timeout of routes that
	// need their own, by the pattern given to Handle.
	RouteBodyReadTimeouts map[string]time.Duration

	mux    *http.ServeMux
	srv    *http.Server
	ln     net.Listener
	mu     sync.Mutex
	checks map[string]ReadinessCheck
	health map[string]HealthReport
}

// HealthReport returns nil while a background task runs, or what is wrong
// with it while it is down and being restarted. /healthz lists it.
type HealthReport func() error

// New returns a server with the operational routes mounted.
func New(logger *slog.Logger, m *metrics.Metrics) *Server {
	s := &Server{
		Logger: logger, Metrics: m, mux: http.NewServeMux(), checks: map[string]ReadinessCheck{}, health: map[string]HealthReport{},
		BodyReadTimeout:       DefaultBodyReadTimeout,
		RouteBodyReadTimeouts: map[string]time.Duration{"POST /v1/events": IngestBodyReadTimeout},
	}
	s.mux.HandleFunc("GET /healthz", s.serveHealth)
	s.mux.HandleFunc("GET /readyz", s.serveReady)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
	return s
}

// Handle mounts a handler on a route pattern (net/http ServeMux syntax),
// counting its requests under the pattern's name and bounding the time to
// read a request body (see BodyReadTimeout).
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, s.count(pattern, s.bodyDeadline(pattern, h)))
}

// AddReadinessCheck registers a check that /readyz consults.
func (s *Server) AddReadinessCheck(name string, check ReadinessCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = check
}

// Ready runs every readiness check and returns the first failure.
func (s *Server) Ready(ctx context.Context) error {
	s.mu.Lock()
	checks := make(map[string]ReadinessCheck, len(s.checks))
	for k, v := range s.checks {
		checks[k] = v
	}
	s.mu.Unlock()
	for name, check := range checks {
		if err := check(ctx); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// AddHealthReport registers a background task that /healthz reports on.
func (s *Server) AddHealthReport(task string, report HealthReport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.health[task] = report
}

// serveHealth answers 200 while the process lives: a task that is down is
// being restarted (and /readyz says not ready), and the process exits by
// itself if it stays down. The body is "ok", or "degraded" with a line per
// task that is down, so an operator sees which one and why.
func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.health))
	for name := range s.health {
		names = append(names, name)
	}
	reports := maps.Clone(s.health)
	s.mu.Unlock()
	slices.Sort(names)
	var down []string
	for _, name := range names {
		if err := reports[name](); err != nil {
			down = append(down, fmt.Sprintf("%s: down: %v", name, err))
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(down) == 0 {
		fmt.Fprintln(w, "ok")
		return
	}
	fmt.Fprintln(w, "degraded")
	for _, line := range down {
		fmt.Fprintln(w, line)
	}
}

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	fmt.Fprintln(w, "ready")
}

// Listen binds addr. It is separate from Serve so that callers (and tests
// using port 0) learn the bound address before serving starts.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr returns the bound address, once Listen has succeeded.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown. It returns nil after a graceful shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends. Long-lived connections (subscriptions) are cut then.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return s.srv.Close()
	}
	return err
}

func (s *Server) count(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		s.Metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(rec.status/100)+"xx").Inc()
	})
}

// statusRecorder notes the response status for the request counter. It
// must pass on every optional interface a handler relies on: Flush for SSE
// (gqlgen asserts http.Flusher directly), Unwrap for http.ResponseController
// and the websocket hijack.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (Hijack, read
// deadlines), which the websocket transport and bodyDeadline need.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush makes the recorder an http.Flusher: gqlgen's SSE transport asserts
// that interface rather than using http.ResponseController, and answers
// "streaming unsupported" without it.
func (r *statusRecorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }
