package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/config"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/eventstore/postgres"
	"github.com/webhookd/webhookd/internal/crashmark"
	"github.com/webhookd/webhookd/internal/tracing"
	"github.com/webhookd/webhookd/internal/wiring"
	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/ratelimit"
	redisrate "github.com/webhookd/webhookd/ratelimit/redis"
)

// core is the part of webhookd every subcommand needs: the event store, the
// read models and the application layer over them (wiring.Core), plus the
// SSRF guard.
type core struct {
	*wiring.Core
	Store  eventstore.Store
	ReadDB *bbolt.DB
	Guard  *netguard.Guard
	// closeLimiter closes the Redis client behind the rate limiter, when
	// there is one.
	closeLimiter func() error
	// stopTracing flushes and stops the trace exporter.
	stopTracing func(context.Context) error
	// lock is the data directory's lock, held until Close.
	lock *os.File
	// readPath is the read model's file.
	readPath string
}

func openCore(ctx context.Context, cfg config.Config, logger *slog.Logger) (*core, error) {
	return openCoreWith(ctx, cfg, logger, nil)
}

// openCoreWith is openCore with the store passed through wrap, when set,
// before anything uses it: tests wrap it in a faultstore to make writes
// fail as a full disk would.
func openCoreWith(ctx context.Context, cfg config.Config, logger *slog.Logger, wrap func(eventstore.Store) eventstore.Store) (*core, error) {
	c := &core{}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	var err error
	if c.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if c.Store, err = openStore(ctx, cfg, logger); err != nil {
		c.Close()
		return nil, err
	}
	if wrap != nil {
		c.Store = wrap(c.Store)
	}
	fail := func(err error) (*core, error) {
		c.Close()
		return nil, err
	}
	c.readPath = filepath.Join(cfg.DataDir, "readmodel.db")
	if err := discardTornReadModel(c.readPath, logger); err != nil {
		return fail(err)
	}
	if c.ReadDB, err = bbolt.Open(c.readPath, 0o600, wiring.ReadModelOptions()); err != nil {
		return fail(fmt.Errorf("open read model %s: %w", c.readPath, err))
	}
	if c.Guard, err = newGuard(cfg); err != nil {
		return fail(err)
	}
	sender := delivery.NewSender(c.Guard, 0)
	if cfg.SigningKeyFile != "" {
		k, err := loadSigningKey(cfg.SigningKeyFile)
		if err != nil {
			return fail(err)
		}
		sender.SigningKeys = []ed25519.PrivateKey{k}
	}
	limiter, closeLimiter, err := newLimiter(cfg)
	if err != nil {
		return fail(err)
	}
	c.closeLimiter = closeLimiter
	tracer, stopTracing, err := tracing.Setup(ctx, cfg.OTelEndpoint, versionString())
	if err != nil {
		return fail(err)
	}
	c.stopTracing = stopTracing
	parts := wiring.Parts{
		Store: c.Store, ReadDB: c.ReadDB, Guard: c.Guard, Sender: sender, Limiter: limiter, Logger: logger,
		CheckCallbackURLs: true, IdempotencyWindow: cfg.IdempotencyWindow, Tracer: tracer,
	}
	if cfg.EventTypesFile != "" {
		cat, err := loadCatalogue(cfg.EventTypesFile)
		if err != nil {
			return fail(err)
		}
		parts.Catalogue = &cat
	}
	if c.Core, err = wiring.Assemble(parts); err != nil {
		return fail(err)
	}
	return c, nil
}

// discardTornReadModel removes the read model when the machine went down
// while it was open (internal/crashmark): some of its unsynced commits may
// have reached the disk and others not. The projections then rebuild it
// from the log, as on a first start, before the service reports ready.
func discardTornReadModel(path string, logger *slog.Logger) error {
	torn, err := crashmark.Begin(path)
	if err != nil || !torn {
		return err
	}
	logger.Warn("the read model was open when the machine went down; rebuilding it from the log", "file", path)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("discard torn read model %s: %w", path, err)
	}
	return nil
}

// Close closes what openCore opened: the rate limiter's Redis client, the
// read models, then the store.
func (c *core) Close() error {
	var errs []error
	if c.closeLimiter != nil {
		errs = append(errs, c.closeLimiter())
	}
	if c.stopTracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, c.stopTracing(ctx))
		cancel()
	}
	if c.ReadDB != nil {
		// Sync the unsynced commits, then drop the crash mark: only a
		// read model closed this way counts as whole after a reboot.
		synced := c.ReadDB.Sync()
		closed := c.ReadDB.Close()
		c.ReadDB = nil // a second Close must not sync a closed file
		errs = append(errs, synced, closed)
		if synced == nil && closed == nil {
			errs = append(errs, crashmark.End(c.readPath))
		}
	}
	if c.Store != nil {
		errs = append(errs, c.Store.Close())
	}
	if c.lock != nil {
		errs = append(errs, c.lock.Close()) // closing releases the lock
	}
	return errors.Join(errs...)
}

func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (eventstore.Store, error) {
	if cfg.EventStore == "embedded" {
		s, err := bolt.Open(filepath.Join(cfg.DataDir, "events.db"), bolt.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("open event store: %w", err)
		}
		return s, nil
	}
	if strings.HasPrefix(cfg.EventStore, "postgres://") || strings.HasPrefix(cfg.EventStore, "postgresql://") {
		s, err := postgres.Open(ctx, cfg.EventStore, postgres.Options{Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL event store: %w", err)
		}
		return s, nil
	}
	return openESDB(ctx, cfg.EventStore)
}

// newGuard builds the SSRF guard. --dev allows loopback, so a receiver on
// the developer's machine can be registered.
func newGuard(cfg config.Config) (*netguard.Guard, error) {
	g := &netguard.Guard{}
	cidrs := cfg.AllowCIDRs
	if cfg.Dev {
		cidrs += ",127.0.0.0/8,::1/128"
	}
	for _, s := range strings.Split(cidrs, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("allow-cidrs: %q is not a CIDR: %w", s, err)
		}
		g.AllowCIDRs = append(g.AllowCIDRs, p)
	}
	return g, nil
}

func loadCatalogue(path string) (domain.Catalogue, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return domain.Catalogue{}, fmt.Errorf("event types file: %w", err)
	}
	extra, err := domain.ParseCatalogueFile(raw)
	if err != nil {
		return domain.Catalogue{}, fmt.Errorf("event types file %s: %w", path, err)
	}
	cat, err := domain.BuiltinCatalogue().WithExtra(extra)
	if err != nil {
		return domain.Catalogue{}, fmt.Errorf("event types file %s: %w", path, err)
	}
	return cat, nil
}

// newLimiter returns the per-webhook rate limiter: Redis when configured,
// so limits hold across instances, and in-process GCRA otherwise.
// The returned func closes what it opened (the Redis client).
func newLimiter(cfg config.Config) (ratelimit.Limiter, func() error, error) {
	if cfg.RedisURL == "" {
		return ratelimit.NewGCRA(time.Now), nil, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis-url: %w", err)
	}
	client := redis.NewClient(opts)
	return redisrate.New(client), client.Close, nil
}
