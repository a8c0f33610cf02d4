// Package app is webhookd's application layer: it carries out commands by
// loading an aggregate from the event store, asking the pure domain to
// decide, and appending the resulting events with optimistic concurrency.
// Queries read the projections through ReadModel. The GraphQL resolvers, the CLI and the HTTP
// routes all call this package; none of them holds business rules.
package app

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/tracing"
)

// PositionWaiter lets a command wait until the read models include its own
// events, so the caller reads its own writes. projections.Runner is one.
type PositionWaiter interface {
	WaitFor(ctx context.Context, pos eventstore.Position) error
}

// URLChecker refuses callback URLs that resolve to internal addresses (the
// SSRF guard). netguard.Guard is one.
type URLChecker interface {
	CheckURL(ctx context.Context, rawURL string) error
}

// VerificationFetcher fetches a webhook's verification file from where the
// account holder placed it and reports whether its content matched, with a
// reason in plain words when it did not.
type VerificationFetcher interface {
	Fetch(ctx context.Context, callbackURL string, file domain.VerificationFile) (ok bool, reason string)
}

// App carries out commands and queries. Fields are set by the caller
// (cmd/webhookd's Main, or a test) before use.
type App struct {
	Store eventstore.Store
	Codec *eventstore.Codec
	// Read is the read model every query goes through (readmodel.go).
	Read ReadModel
	// Feed carries live changes to subscriptions; nil when nothing
	// subscribes (the CLI).
	Feed      ChangeFeed
	Waiter    PositionWaiter
	Catalogue domain.Catalogue
	Guard     URLChecker
	Verifier  VerificationFetcher
	Logger    *slog.Logger
	// IdempotencyWindow is how long a publisher's event id deduplicates;
	// zero means DefaultIdempotencyWindow.
	IdempotencyWindow time.Duration
	// Tester sends test deliveries at once; the dispatcher is one.
	Tester TestSender
	// Tracer makes the publish spans; nil (tracing off) makes none.
	Tracer *tracing.Tracer
	// RetryPolicy is the server's default retry policy (--retry-schedule),
	// which a webhook's own choice overrides; the zero value is
	// domain.DefaultRetryPolicy. The dispatcher retries by the same one, so
	// the API shows the schedule that applies.
	RetryPolicy domain.RetryPolicy
	// Now and Random are injectable so tests control time and randomness.
	Now    func() time.Time
	Random io.Reader
}

// New returns an App with the production clock and randomness.
func New(store eventstore.Store, codec *eventstore.Codec, read ReadModel, waiter PositionWaiter) *App {
	return &App{
		Store: store, Codec: codec, Read: read, Waiter: waiter,
		Catalogue: domain.BuiltinCatalogue(), Logger: slog.Default(),
		Now: func() time.Time { return time.Now().UTC() }, Random: rand.Reader,
	}
}

// Principal is an authenticated caller.
type Principal struct {
	AccountID string
	KeyID     string
	Scope     domain.KeyScope
	// Session is the portal session the caller signed in with (by cookie),
	// or "" for an API key; KeyID is then empty.
	Session string
	// ReadOnly is set for read-only portal sessions: they may watch and
	// test, never change or delete.
	ReadOnly bool
}
