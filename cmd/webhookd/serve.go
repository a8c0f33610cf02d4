package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/webhookd/webhookd/projections"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/graph"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/internal/routes"
	"github.com/webhookd/webhookd/metrics"
	"github.com/webhookd/webhookd/projections/accounts"
	"github.com/webhookd/webhookd/projections/due"
)

// Main is the running service: it wires the concrete adapters together.
type Main struct {
	Config  config.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Core    *core
	HTTP    *httpserver.Server
	// Stdout receives what the operator must read and copy, such as the
	// keys --dev creates; nil means os.Stdout. Logs go to Logger.
	Stdout io.Writer
	// demoKey is the key --dev created on a fresh data directory. It is
	// set after serving starts, while requests may read it.
	demoKey atomic.Pointer[string]

	admin *http.Server
	// wrapStore, when set, wraps the event store as it opens (tests inject
	// storage faults with it).
	wrapStore func(eventstore.Store) eventstore.Store
	// projected, when set, is called on the projections' goroutine after
	// each batch they commit; crash tests block in it to hold the read
	// models behind the log.
	projected func(eventstore.Position)
	// pruneEvery and retentionNow, when set, replace the read models'
	// prune interval and retention clock, so a test sees serve's pruner
	// drop what has expired without waiting days.
	pruneEvery   time.Duration
	retentionNow func() time.Time

	// Background work stops in order (see Close): the dispatcher first,
	// then the projections once they have applied what is committed.
	stopDispatcher, stopRunner context.CancelFunc
	dispatcherDone             <-chan struct{}
	dispatching                atomic.Bool
	fatal                      chan error
	wg                         sync.WaitGroup
	errMu                      sync.Mutex
	bgErr                      error
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
	c, err := openCoreWith(ctx, m.Config, m.Logger, m.wrapStore)
	if err != nil {
		return err
	}
	m.Core = c
	if err := applyRetention(ctx, c.Store, m.Config.Retention, m.Logger); err != nil {
		return err
	}
	// The read models prune by the same policy (projections.Retention).
	c.Runner.Retention = projections.Retention{Ages: m.Config.Retention, Now: m.retentionNow}
	m.Core.Runner.OnProgress = func(p eventstore.Position) {
		m.Metrics.ProjectionPosition.WithLabelValues("readmodel").Set(float64(p))
		if m.projected != nil {
			m.projected(p)
		}
	}
	m.Metrics.WatchProjectionLag("readmodel", c.Runner.Position, c.Store)

	m.HTTP = httpserver.New(m.Logger, m.Metrics)
	m.HTTP.AddReadinessCheck("projections", m.projectionsReady)
	m.HTTP.AddHealthReport("projections", func() error { return c.Runner.Health().Err })
	theme, err := loadPortalTheme(m.Config.PortalThemeFile)
	if err != nil {
		return err
	}
	routes.Mount(m.HTTP, c.Core, routes.Options{Logger: m.Logger, PublicURL: m.Config.PublicURL,
		GraphQL: graph.Options{Introspection: m.Config.Introspection}, DevKey: m.DemoKey, Explorer: m.Config.Dev,
		PortalFrameAncestors: m.Config.PortalFrameAncestors, PortalTheme: theme})
	if err := m.HTTP.Listen(m.Config.Addr); err != nil {
		return err
	}
	if err := m.listenAdmin(); err != nil {
		return err
	}

	c.Dispatcher.Metrics = delivery.NewMetrics(m.Metrics.Registry, c.Dispatcher.InFlight,
		due.Index{DB: c.ReadDB}.Counts)
	c.Dispatcher.RetryPolicy = retryPolicy(m.Config)
	c.App.RetryPolicy = c.Dispatcher.RetryPolicy // the API shows what the dispatcher applies
	m.startBackground()
	m.goBackground("http", m.HTTP.Serve)
	m.Logger.Info("webhookd listening", "addr", m.HTTP.Addr(), "eventstore", m.Config.EventStore, "data_dir", m.Config.DataDir, "dev", m.Config.Dev, "dispatch", m.Config.Dispatch)
	return m.greet(ctx)
}

// greet tells the operator how to get a first key on a fresh data
// directory, or with --dev creates a demo account with an account key and
// a publisher key and prints them; a later --dev start on the same data
// says how to get a key again, since only the keys' hashes are stored.
func (m *Main) greet(ctx context.Context) error {
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if m.Core.Runner.WaitReady(waitCtx) != nil {
		return nil // still catching up; readiness reports it
	}
	n, err := accounts.CountAccounts(m.Core.ReadDB)
	if err != nil {
		return err
	}
	createHint := "webhookd keys create --data-dir " + absDir(m.Config.DataDir) + " --account ACCOUNT --scope account"
	switch {
	case n > 0 && m.Config.Dev:
		fmt.Fprintf(m.stdout(), "webhookd --dev: this data directory already has accounts, and keys are shown only when they are created.\n"+
			"Create another key while the server runs with:\n\n  %s\n\n", strings.Replace(createHint, "ACCOUNT", devAccount, 1))
		return nil
	case n > 0:
		return nil
	case !m.Config.Dev:
		m.Logger.Info("no accounts yet; create the first key with: " + createHint + " (use --scope admin for an operator key)")
		return nil
	}
	return m.createDemoKeys(ctx)
}

// devAccount is the account --dev creates on a fresh data directory.
const devAccount = "demo"

func (m *Main) createDemoKeys(ctx context.Context) error {
	k, err := m.Core.App.CreateAPIKey(ctx, devAccount, domain.ScopeAccount, "demo key (--dev)", 0)
	if err != nil {
		return fmt.Errorf("create demo key: %w", err)
	}
	pub, err := m.Core.App.CreateAPIKey(ctx, devAccount, domain.ScopePublisher, "demo publisher key (--dev)", 0)
	if err != nil {
		return fmt.Errorf("create demo publisher key: %w", err)
	}
	m.demoKey.Store(&k.Secret)
	base := "http://" + m.HTTP.Addr()
	fmt.Fprintf(m.stdout(), "webhookd --dev: created the demo account %q. The keys are shown only this once:\n\n"+
		"  account key (UI, /graphql):             %s\n"+
		"  publisher key (publishEvents, /v1/events): %s\n\n"+
		"  UI:               %s/\n  GraphQL explorer: %s/graphiql\n\n", devAccount, k.Secret, pub.Secret, base, base)
	m.Logger.Info("dev mode: created demo account and keys (printed on standard output)", "account", devAccount, "key_id", k.Key.ID, "publisher_key_id", pub.Key.ID)
	return nil
}

func (m *Main) stdout() io.Writer {
	if m.Stdout == nil {
		return os.Stdout
	}
	return m.Stdout
}

// absDir is dir made absolute for messages the operator copies, or dir
// itself when that fails.
func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
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

// Fatal delivers the error of a background task that gave up (the
// projections, failing for longer than --fatal-after); the process must
// then close and exit non-zero so that its supervisor restarts it.
func (m *Main) Fatal() <-chan error { return m.fatal }

// goBackground runs fn until it returns; an error is logged and kept for
// Close to report. The returned channel closes when fn has returned.
func (m *Main) goBackground(name string, fn func() error) <-chan struct{} {
	m.wg.Add(1)
	done := make(chan struct{})
	go func() {
		defer m.wg.Done()
		defer close(done)
		if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
			m.Logger.Error("background task stopped", "task", name, "err", err)
			m.errMu.Lock()
			m.bgErr = errors.Join(m.bgErr, fmt.Errorf("%s: %w", name, err))
			m.errMu.Unlock()
		}
	}()
	return done
}

// Close shuts down gracefully: stop accepting requests and let in-flight
// ones finish, stop the dispatcher (recording its attempts in flight), let
// the projections apply everything committed, then close the stores, so
// every acknowledged append is on disk and the next start has no lag.
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
	errs = append(errs, m.stopBackground(ctx))
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
