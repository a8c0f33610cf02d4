package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/graph"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/metrics"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/web"
)

// Main is the running service: it wires the concrete adapters together.
type Main struct {
	Config  config.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Core    *core
	HTTP    *httpserver.Server
	// demoKey is the key --dev created on a fresh data directory. It is
	// set after serving starts, while requests may read it.
	demoKey atomic.Pointer[string]

	admin  *http.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errMu  sync.Mutex
	bgErr  error
}

// NewMain returns a Main with default configuration.
func NewMain() *Main {
	cfg, _ := config.Parse("serve", nil, func(string) (string, bool) { return "", false })
	return &Main{Config: cfg}
}

// ParseFlags reads flags and WEBHOOKD_* variables.
func (m *Main) ParseFlags(args []string) error {
	cfg, err := config.FromEnvironment("webhookd serve", args)
	if err != nil {
		return err
	}
	m.Config = cfg
	return nil
}

// Run opens the stores, starts the projections and the HTTP listener, and
// returns once the service is accepting connections.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = newLogger(m.Config)
	}
	m.Metrics = metrics.New()
	c, err := openCore(ctx, m.Config, m.Logger)
	if err != nil {
		return err
	}
	m.Core = c
	if err := applyRetention(ctx, c.Store, m.Config.Retention, m.Logger); err != nil {
		return err
	}
	m.Core.Runner.OnProgress = func(p eventstore.Position) { m.Metrics.ProjectionPosition.WithLabelValues("readmodel").Set(float64(p)) }

	m.HTTP = httpserver.New(m.Logger, m.Metrics)
	m.HTTP.AddReadinessCheck("projections", c.Runner.Ready)
	resolver := &graph.Resolver{App: c.App, Broker: c.Broker, Logger: m.Logger}
	m.HTTP.Handle("/graphql", graph.NewHandler(resolver, graph.Options{Introspection: m.Config.Introspection}))
	m.HTTP.Handle("GET /webhooks/{id}/verification-file", httpserver.VerificationFileHandler(c.App))
	m.HTTP.Handle("POST /v1/events", httpserver.EventsHandler(c.App))
	m.HTTP.Handle("GET /v1/deliveries/export", httpserver.ExportHandler(c.App))
	m.HTTP.Handle("GET /.well-known/jwks.json", httpserver.JWKSHandler(c.Dispatcher.Sender.SigningKeys))
	// The Webhooks tab, on "/" (not "GET /", which would conflict with the
	// method-less /graphql route); the demo key is offered only in --dev.
	m.HTTP.Handle("/", web.Handler(web.Options{DevKey: m.DemoKey}))
	if m.Config.Dev {
		m.HTTP.Handle("GET /graphiql", graph.Explorer("/graphql"))
	}
	if err := m.HTTP.Listen(m.Config.Addr); err != nil {
		return err
	}
	if err := m.listenAdmin(); err != nil {
		return err
	}

	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	c.Dispatcher.Metrics = delivery.NewMetrics(m.Metrics.Registry, c.Dispatcher.InFlight,
		func() (map[string]projections.DueCount, error) { return projections.DueCounts(c.ReadDB) })
	m.goBackground("projections", func() error { return c.Runner.Run(bg) })
	m.goBackground("dispatcher", func() error {
		// Dispatch only once the due index has caught up with the log, so
		// nothing already attempted is attempted again.
		for c.Runner.Ready(bg) != nil {
			select {
			case <-bg.Done():
				return nil
			case <-time.After(10 * time.Millisecond):
			}
		}
		return c.Dispatcher.Run(bg)
	})
	m.goBackground("http", m.HTTP.Serve)
	m.Logger.Info("webhookd listening", "addr", m.HTTP.Addr(), "eventstore", m.Config.EventStore, "data_dir", m.Config.DataDir, "dev", m.Config.Dev)
	return m.greet(ctx)
}

// greet tells the operator how to get a first key on a fresh data
// directory, or with --dev creates a demo account and key.
func (m *Main) greet(ctx context.Context) error {
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for m.Core.Runner.Ready(waitCtx) != nil {
		select {
		case <-waitCtx.Done():
			return nil // still catching up; readiness reports it
		case <-time.After(20 * time.Millisecond):
		}
	}
	n, err := projections.CountAccounts(m.Core.ReadDB)
	if err != nil || n > 0 {
		return err
	}
	if !m.Config.Dev {
		m.Logger.Info("no accounts yet; create the first key with: webhookd keys create --account ACCOUNT --scope account (use --scope admin for an operator key)")
		return nil
	}
	k, err := m.Core.App.CreateAPIKey(ctx, "demo", domain.ScopeAccount, "demo key (--dev)", 0)
	if err != nil {
		return fmt.Errorf("create demo key: %w", err)
	}
	m.demoKey.Store(&k.Secret)
	m.Logger.Info("dev mode: created demo account and key", "account", "demo", "key", k.Secret)
	return nil
}

// DemoKey returns the key --dev created, or "" when there is none.
func (m *Main) DemoKey() string {
	if k := m.demoKey.Load(); k != nil {
		return *k
	}
	return ""
}

// listenAdmin serves the admin API on a Unix socket in the data directory.
func (m *Main) listenAdmin() error {
	path := filepath.Join(m.Config.DataDir, "admin.sock")
	_ = os.Remove(path) // a stale socket from a crash; the store lock proves we own the directory
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("admin socket: %w", err)
	}
	m.admin = &http.Server{Handler: httpserver.AdminHandler(m.Core.App), ReadHeaderTimeout: 5 * time.Second}
	m.goBackground("admin", func() error {
		if err := m.admin.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

// goBackground runs fn until it returns; an error is logged and kept for
// Close to report.
func (m *Main) goBackground(name string, fn func() error) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
			m.Logger.Error("background task stopped", "task", name, "err", err)
			m.errMu.Lock()
			m.bgErr = errors.Join(m.bgErr, fmt.Errorf("%s: %w", name, err))
			m.errMu.Unlock()
		}
	}()
}

// Close shuts down gracefully: stop accepting requests and let in-flight
// ones finish, stop the background work, then close the stores, so every
// acknowledged append is on disk before the process exits.
func (m *Main) Close() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	if m.HTTP != nil {
		errs = append(errs, m.HTTP.Shutdown(ctx))
	}
	if m.admin != nil {
		errs = append(errs, m.admin.Shutdown(ctx))
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.Core != nil {
		errs = append(errs, m.Core.Close())
	}
	m.errMu.Lock()
	errs = append(errs, m.bgErr)
	m.errMu.Unlock()
	if m.Logger != nil {
		m.Logger.Info("webhookd stopped")
	}
	return errors.Join(errs...)
}

func newLogger(c config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
