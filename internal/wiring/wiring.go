// Package wiring assembles webhookd's core from its opened parts: the
// codec, the projection runner feeding the live broker and the dispatcher,
// the application layer and the dispatcher itself. The serve command and
// the test environment both use it, so tests run the same wiring the
// service does.
package wiring

import (
	"fmt"
	"log/slog"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/app"
	"github.com/webhookd/webhookd/delivery"
	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/tracing"
	"github.com/webhookd/webhookd/netguard"
	"github.com/webhookd/webhookd/operational"
	"github.com/webhookd/webhookd/projections"
	"github.com/webhookd/webhookd/projections/due"
	"github.com/webhookd/webhookd/projections/live"
	"github.com/webhookd/webhookd/projections/readmodels"
	"github.com/webhookd/webhookd/ratelimit"
	"github.com/webhookd/webhookd/verification"
)

// Parts are what Assemble needs: open databases, the SSRF guard that
// verification and delivery dial through, the delivery sender and the
// rate limiter.
type Parts struct {
	Store   eventstore.Store
	ReadDB  *bbolt.DB
	Guard   *netguard.Guard
	Sender  *delivery.Sender
	Limiter ratelimit.Limiter
	Logger  *slog.Logger
	// CheckCallbackURLs makes create and update refuse callback URLs the
	// guard refuses (serve). Tests that register unresolvable names such as
	// example.com leave it off; delivery and verification dial through the
	// guard either way.
	CheckCallbackURLs bool
	// IdempotencyWindow is how long a published event's id deduplicates;
	// zero means app.DefaultIdempotencyWindow.
	IdempotencyWindow time.Duration
	// Catalogue is the event-type catalogue; the zero value means the
	// built-in one.
	Catalogue *domain.Catalogue
	// Tracer makes publish and attempt spans; nil is tracing off.
	Tracer *tracing.Tracer
}

// Core is the assembled service core. Nothing runs yet: the caller starts
// Runner.Run and, to deliver, Dispatcher.Run and Reactor.Run.
type Core struct {
	Codec      *eventstore.Codec
	Broker     *live.Broker
	Runner     *projections.Runner
	App        *app.App
	Dispatcher *delivery.Dispatcher
	// Reactor publishes the operational events the log's facts call for;
	// RateLimits those of sustained rate limiting, from the dispatcher.
	Reactor    *operational.Reactor
	RateLimits *operational.RateLimits
}

// Assemble wires the core and opens the projections (creating their
// buckets and loading the checkpoint).
func Assemble(p Parts) (*Core, error) {
	c := &Core{Codec: eventstore.NewCodec(), Broker: live.NewBroker(), Dispatcher: delivery.NewDispatcher()}
	domain.RegisterEvents(c.Codec)
	c.Runner = &projections.Runner{
		Name: "readmodel", Store: p.Store, DB: p.ReadDB, Codec: c.Codec, Logger: p.Logger,
		Projections: readmodels.All(),
		Deferrable:  attemptRecord,
		OnDecoded: func(_ eventstore.RecordedEvent, ev eventstore.Event) {
			if m, ok := ev.(domain.MessagePublished); ok && m.FansOut() {
				c.Dispatcher.Remember(m)
			}
		},
		OnCommit: func(changes []projections.Change) {
			c.Broker.Publish(changes)
			c.Dispatcher.Notify(changes)
		},
	}
	if err := c.Runner.Open(); err != nil {
		return nil, fmt.Errorf("open projections: %w", err)
	}
	c.App = app.New(p.Store, c.Codec, readmodels.Bolt{DB: p.ReadDB, Log: p.Store, Codec: c.Codec}, c.Runner)
	c.App.Feed = c.Broker
	c.App.Logger = p.Logger
	c.App.Verifier = verification.New(p.Guard)
	c.App.Tester = c.Dispatcher
	if p.CheckCallbackURLs {
		c.App.Guard = p.Guard
	}
	c.App.IdempotencyWindow = p.IdempotencyWindow
	c.App.Tracer, c.Dispatcher.Tracer = p.Tracer, p.Tracer
	if p.Catalogue != nil {
		c.App.Catalogue = *p.Catalogue
	}
	d := c.Dispatcher
	d.Store, d.Codec, d.Progress, d.Logger = p.Store, c.Codec, c.Runner, p.Logger
	d.Due, d.Webhooks = due.Index{DB: p.ReadDB}, c.App.Read
	d.Sender, d.Limiter, d.Disabler = p.Sender, p.Limiter, c.App
	c.RateLimits = operational.NewRateLimits(c.App, p.Logger)
	d.RateLimits = c.RateLimits
	c.Reactor = &operational.Reactor{
		Store: p.Store, Codec: c.Codec, DB: p.ReadDB, Publisher: c.App, Logger: p.Logger,
		Operational: c.App.Catalogue.Operational, StartAt: c.Runner.Position,
	}
	if err := c.Reactor.Open(); err != nil {
		return nil, fmt.Errorf("open operational events: %w", err)
	}
	return c, nil
}

// attemptRecord says which log events the read models may take a few
// milliseconds to apply (projections.Runner.Deferrable): the events of
// delivery streams, which the dispatcher appends with every attempt.
// Whoever must read one at once (a redelivery, a test send, an ordered
// line waiting for its head) asks the runner to hurry.
func attemptRecord(rec eventstore.RecordedEvent) bool {
	_, ok := domain.DeliveryIDFromStream(rec.Stream)
	return ok
}
