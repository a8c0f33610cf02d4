// Package postgres is the PostgreSQL event store backend, for running
// several webhookd instances on one shared, durable log.
//
// Each Append is one call of a server-side function (one statement, one
// transaction, one round trip). The global order is the appending
// transactions' xid order, and readers only read below the oldest
// transaction still running, so a transaction that commits late can never
// be skipped (read.go). Subscriptions are pull cursors that poll, woken by
// local commits and by LISTEN/NOTIFY from other instances; the table is the
// source of truth, the notification only a hint.
package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/webhookd/webhookd/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

// defaultMaxConns is the pool size unless the URL sets pool_max_conns.
const defaultMaxConns = 32

// channel is the NOTIFY channel appends announce themselves on.
const channel = "webhookd_events"

// Options tune a Store. The zero value is the production setting.
type Options struct {
	// Logger receives background errors (listener, notifier, retention).
	// Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock retention measures ages by. Defaults to time.Now;
	// tests move it forward instead of sleeping.
	Now func() time.Time
	// PollInterval bounds how long a caught-up subscription waits without a
	// wake-up before it reads again. Zero means 200 ms.
	PollInterval time.Duration
	// SweepInterval is how often retention runs in the background. Zero
	// means one minute; negative disables the background sweep.
	SweepInterval time.Duration

	// naive reads the log by position alone, ignoring transactions still
	// in flight: the broken reader the conformance suite must catch. Only
	// tests set it.
	naive bool
}

// Store is the PostgreSQL event store. It is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	log   *slog.Logger
	now   func() time.Time
	poll  time.Duration
	naive bool

	// gate serialises Close against operations starting.
	gate     sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
	closing  chan struct{}
	cancel   context.CancelFunc // ends the background goroutines
	bg       sync.WaitGroup

	// commitMu guards committed, closed and replaced on every local commit
	// or notification: the broadcast caught-up subscribers wait on.
	commitMu  sync.Mutex
	committed chan struct{}
	kick      chan struct{} // asks the notifier for one NOTIFY
	instance  string        // the NOTIFY payload, so the listener skips its own
}

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string), creates or migrates the schema, and starts the
// listener, the notifier and the retention sweep.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres event store: %w", err)
	}
	// Appends must be durable when acknowledged, and the append function
	// relies on each statement seeing what committed before it.
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	cfg.ConnConfig.RuntimeParams["application_name"] = "webhookd"
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (the CPU count) would cap concurrent appends,
		// and with them how many share one WAL flush.
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres event store: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres event store: migrate schema: %w", err)
	}
	s := &Store{
		pool: pool, log: opts.Logger, now: opts.Now, poll: opts.PollInterval, naive: opts.naive,
		closing: make(chan struct{}), committed: make(chan struct{}), kick: make(chan struct{}, 1),
		instance: uuid.NewString(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.poll <= 0 {
		s.poll = 200 * time.Millisecond
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.bg.Go(func() { s.listen(bg, cfg.ConnConfig) })
	s.bg.Go(func() { s.notifier(bg) })
	if opts.SweepInterval >= 0 {
		interval := opts.SweepInterval
		if interval == 0 {
			interval = time.Minute
		}
		s.bg.Go(func() { s.sweepLoop(bg, interval) })
	}
	return s, nil
}

// Close ends every subscription, waits for operations in flight and the
// background goroutines, and closes the pool. It may be called twice.
func (s *Store) Close() error {
	s.gate.Lock()
	if s.closed {
		s.gate.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.gate.Unlock()
	s.cancel()
	s.inflight.Wait()
	s.bg.Wait()
	s.pool.Close()
	return nil
}

// enter registers an operation, refusing it once the store is closing; the
// caller must call the returned function when done.
func (s *Store) enter() (func(), error) {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	s.inflight.Add(1)
	return s.inflight.Done, nil
}

// commitSignal returns a channel closed at the next local commit or
// notification.
func (s *Store) commitSignal() <-chan struct{} {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	return s.committed
}

// broadcast wakes every subscription waiting on commitSignal.
func (s *Store) broadcast() {
	s.commitMu.Lock()
	close(s.committed)
	s.committed = make(chan struct{})
	s.commitMu.Unlock()
}

// committedLocally wakes local subscribers and asks the notifier to tell
// other instances, without ever waiting for either.
func (s *Store) committedLocally() {
	s.broadcast()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// notifier sends one NOTIFY per burst of local commits. It runs outside
// the appends' transactions because a NOTIFY in a transaction takes a
// cluster-wide lock through its commit, which would serialise every
// append's WAL flush.
func (s *Store) notifier(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		_, err := s.pool.Exec(ctx, "SET LOCAL synchronous_commit TO off; SELECT pg_notify('"+channel+"', '"+s.instance+"')")
		if err != nil && ctx.Err() == nil {
			s.log.Warn("event store: notify other instances", "err", err)
		}
	}
}

// listen holds a connection LISTENing for other instances' appends and
// wakes local subscribers on each. It reconnects after a dropped
// connection; subscribers poll meanwhile, so nothing waits on it.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	backoff := newBackoff()
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, cfg, backoff)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("event store: listener connection lost; reconnecting", "err", err)
		s.broadcast() // something may have been missed: read again
		if !backoff.wait(ctx) {
			return
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, backoff *backoff) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	backoff.reset()
	s.broadcast() // commits between losing and regaining the connection
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		if n.Payload != s.instance { // local commits were broadcast already
			s.broadcast()
		}
	}
}
