package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/httpserver"
	"github.com/webhookd/webhookd/metrics"
	"github.com/webhookd/webhookd/projections"
)

// Main is the running service: it wires the concrete adapters together.
type Main struct {
	Config  config.Config
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Store   eventstore.Store
	Codec   *eventstore.Codec
	ReadDB  *bbolt.DB
	Runner  *projections.Runner
	Broker  *projections.Broker
	HTTP    *httpserver.Server

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
	m.Logger = newLogger(m.Config)
	m.Metrics = metrics.New()
	m.Codec = eventstore.NewCodec()
	domain.RegisterEvents(m.Codec)

	if err := os.MkdirAll(m.Config.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	store, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	m.Store = store
	if m.ReadDB, err = bbolt.Open(filepath.Join(m.Config.DataDir, "readmodel.db"), 0o600, &bbolt.Options{Timeout: 2 * time.Second}); err != nil {
		return fmt.Errorf("open read model %s: %w", filepath.Join(m.Config.DataDir, "readmodel.db"), err)
	}
	m.Broker = projections.NewBroker()
	m.Runner = &projections.Runner{
		Name: "readmodel", Store: m.Store, DB: m.ReadDB, Codec: m.Codec, Logger: m.Logger,
		Projections: projections.All(),
		OnCommit:    m.Broker.Publish,
	}
	if err := m.Runner.Open(); err != nil {
		return fmt.Errorf("open projections: %w", err)
	}

	m.HTTP = httpserver.New(m.Logger, m.Metrics)
	m.HTTP.AddReadinessCheck("projections", m.Runner.Ready)
	if err := m.HTTP.Listen(m.Config.Addr); err != nil {
		return err
	}

	bg, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.goBackground("projections", func() error { return m.Runner.Run(bg) })
	m.goBackground("http", m.HTTP.Serve)
	m.Logger.Info("webhookd listening", "addr", m.HTTP.Addr(), "eventstore", m.Config.EventStore, "data_dir", m.Config.DataDir)
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
	if m.HTTP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
		errs = append(errs, m.HTTP.Shutdown(ctx))
		cancel()
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	if m.ReadDB != nil {
		errs = append(errs, m.ReadDB.Close())
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	m.errMu.Lock()
	errs = append(errs, m.bgErr)
	m.errMu.Unlock()
	if m.Logger != nil {
		m.Logger.Info("webhookd stopped")
	}
	return errors.Join(errs...)
}

func (m *Main) openStore(ctx context.Context) (eventstore.Store, error) {
	if m.Config.EventStore == "embedded" {
		path := filepath.Join(m.Config.DataDir, "events.db")
		s, err := bolt.Open(path, bolt.Options{Logger: m.Logger})
		if err != nil {
			return nil, fmt.Errorf("open event store: %w", err)
		}
		return s, nil
	}
	return openESDB(ctx, m.Config.EventStore)
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
