// Package testenv builds real webhookd components for tests: an embedded
// event store in a temporary directory, a read-model database, a running
// projection runner and the application layer over them. Tests use these
// real parts rather than mocks of the project's own store.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/internal/tracing"
	"github.com/webhookd/webhookd/internal/wiring"
	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/live"
	"github.com/webhookd/webhookd/projections/webhooks"
	"github.com/webhookd/webhookd/ratelimit"
)

// Env is a running core: store, projections and app.
type Env struct {
	Dir    string
	Store  eventstore.Store
	Codec  *eventstore.Codec
	ReadDB *bbolt.DB
	// Core is the assembled core, as serve assembles it; routes.Mount puts
	// serve's routes on a test server.
	Core   *wiring.Core
	Runner *projections.Runner
	Broker *live.Broker
	App    *app.App
	cancel context.CancelFunc
	// Dispatcher is wired but not running; StartDispatcher runs it.
	Dispatcher *delivery.Dispatcher
	Guard      *netguard.Guard

	stop           func() error
	stopDispatcher func()
	closeOnce      sync.Once
	closeErr       error
}

// Options vary the core New builds. The zero value is what New uses.
type Options struct {
	// Durable fsyncs every commit of the event store and the read model,
	// with the read-model options the serve command uses, so benchmarks
	// measure what production pays. Tests leave it off for speed.
	Durable bool
	// SenderTimeout bounds one delivery attempt; zero means 5 s.
	SenderTimeout time.Duration
	// Logger receives the core's logs; nil means slog.Default().
	Logger *slog.Logger
	// Dir holds the databases instead of a fresh t.TempDir, so a core
	// closed with Close can be started again on the same files.
	Dir string
	// WrapStore, when set, wraps the real event store before anything
	// uses it, so a test can inject storage faults (internal/faultstore)
	// under the whole core.
	WrapStore func(eventstore.Store) eventstore.Store
	// Tracer, when set, traces publishing and attempts as --otel-endpoint
	// does; tests give it an SDK provider with an in-memory exporter.
	Tracer *tracing.Tracer
	// Now is the event store's clock (commit times, retention sweeps);
	// nil means time.Now.
	Now func() time.Time
}

// New starts a core in t.TempDir and stops it when the test ends. Nothing
// is fsynced: use NewWith and Options.Durable to measure durable work.
func New(t testing.TB) *Env {
	t.Helper()
	return NewWith(t, Options{})
}

// NewWith starts a core built with opts in t.TempDir and stops it when the
// test ends.
func NewWith(t testing.TB, opts Options) *Env {
	t.Helper()
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	if opts.SenderTimeout == 0 {
		opts.SenderTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	var store eventstore.Store
	store, err := bolt.Open(filepath.Join(dir, "events.db"), bolt.Options{NoSync: !opts.Durable, SweepInterval: -1, Logger: opts.Logger, Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	if opts.WrapStore != nil {
		store = opts.WrapStore(store)
	}
	readOpts := &bbolt.Options{NoSync: true, FreelistType: bbolt.FreelistMapType}
	if opts.Durable {
		readOpts = wiring.ReadModelOptions() // as the serve command opens it
	}
	readDB, err := bbolt.Open(filepath.Join(dir, "readmodel.db"), 0o600, readOpts)
	if err != nil {
		t.Fatal(err)
	}
	guard := &netguard.Guard{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	// The create-time URL check stays off (App.Guard nil) so tests may use
	// unresolvable names like example.com; verification and delivery dial
	// through the guard, with loopback allowed for test receivers.
	c, err := wiring.Assemble(wiring.Parts{
		Store: store, ReadDB: readDB, Guard: guard, Logger: opts.Logger,
		Sender: delivery.NewSender(guard, opts.SenderTimeout), Limiter: ratelimit.NewGCRA(time.Now), Tracer: opts.Tracer,
	})
	if err != nil {
		t.Fatal(err)
	}
	codec, broker, runner, a, dispatcher := c.Codec, c.Broker, c.Runner, c.App, c.Dispatcher
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.Run(ctx) }()
	reacted := make(chan error, 1)
	go func() { reacted <- c.Reactor.Run(ctx) }()
	e := &Env{Core: c, Dir: dir, Store: store, Codec: codec, ReadDB: readDB, Runner: runner, Broker: broker, App: a, Dispatcher: dispatcher, Guard: guard, cancel: cancel}
	e.stop = func() error {
		e.StopDispatcher()
		cancel()
		c.RateLimits.Wait()
		var err error
		select {
		case err = <-done:
			if err != nil {
				err = fmt.Errorf("projection runner: %w", err)
			}
		case <-time.After(10 * time.Second):
			err = errors.New("projection runner did not stop")
		}
		select {
		case rerr := <-reacted:
			err = errors.Join(err, rerr)
		case <-time.After(10 * time.Second):
			err = errors.Join(err, errors.New("operational reactor did not stop"))
		}
		return errors.Join(err, readDB.Close(), store.Close())
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// Close stops the dispatcher StartDispatcher started, the projection
// runner and the operational reactor, and closes the databases, as a
// shutdown would, so NewWith with Options.Dir can start the core again on
// the same files. Close is idempotent; the test's cleanup calls it too.
func (e *Env) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.stop() })
	return e.closeErr
}

// AccountKey creates an API key of scope for account and returns its
// principal and the raw key.
func (e *Env) AccountKey(t testing.TB, account string, scope domain.KeyScope) (app.Principal, string) {
	t.Helper()
	k, err := e.App.CreateAPIKey(context.Background(), account, scope, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return app.Principal{AccountID: account, KeyID: k.Key.ID, Scope: scope}, k.Secret
}

// StartDispatcher runs the dispatcher until the test ends.
func (e *Env) StartDispatcher(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := e.Dispatcher.Run(ctx); err != nil {
			t.Errorf("dispatcher: %v", err)
		}
	}()
	var once sync.Once
	e.stopDispatcher = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(e.stopDispatcher)
}

// StopDispatcher stops the dispatcher StartDispatcher started and waits
// for its attempts in flight to be recorded.
func (e *Env) StopDispatcher() {
	if e.stopDispatcher != nil {
		e.stopDispatcher()
	}
}

// VerifiedWebhook creates a webhook delivering types to r at path and proves
// its ownership through the real verification fetch.
func (e *Env) VerifiedWebhook(t testing.TB, p app.Principal, r *Receiver, path string, types ...string) webhooks.WebhookView {
	t.Helper()
	ctx := context.Background()
	v, err := e.App.CreateWebhook(ctx, p, domain.CreateWebhook{Name: "hook " + path, URL: r.URL + path, EventTypes: types})
	if err != nil {
		t.Fatal(err)
	}
	r.PlaceFile(v.Verification.File.Name, v.Verification.File.Token)
	v, ok, reason, err := e.App.VerifyWebhook(ctx, p, v.ID)
	if err != nil || !ok {
		t.Fatalf("verify webhook: ok=%v reason=%q err=%v", ok, reason, err)
	}
	return v
}
