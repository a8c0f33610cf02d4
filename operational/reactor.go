// Package operational turns facts already in the log into operational
// events for the account: webhook.disabled, webhook.verification_failed,
// webhook.recovered and delivery.failed (the Reactor), and webhook.rate_limited from what the
// dispatcher sees (RateLimits).
//
// The Reactor is a projector with side effects, like the dispatcher: it
// follows the log on its own subscription and checkpoint, never as part of
// the read models' runner, so a rebuild of the read models publishes
// nothing. Every message's ID derives from the log event that triggered it
// (domain.OperationalMessage.MessageID), and publishing appends at
// NoStream, so events handled twice (a crash between publishing and saving
// the checkpoint, two instances on one store) are published once.
package operational

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/aggregate"
)

// Publisher publishes an operational event once per key. app.App is one.
type Publisher interface {
	PublishOperational(ctx context.Context, m domain.OperationalMessage) (bool, error)
}

// bucket holds the reactor's checkpoint and health watch in the
// read-model file. No projection owns it, so a rebuild leaves it alone.
var (
	bucket        = []byte("operational")
	keyCheckpoint = []byte("checkpoint")
	keyHealth     = []byte("health")
)

// filter is the log events the reactor reacts to; it decodes nothing else.
var filter = eventstore.Filter{TypePrefixes: []string{
	domain.WebhookDisabled{}.EventType(), domain.WebhookVerificationFailed{}.EventType(), domain.WebhookDeleted{}.EventType(),
	domain.DeliveryRetryScheduled{}.EventType(), domain.DeliverySucceeded{}.EventType(), domain.DeliveryFailed{}.EventType(),
	domain.DeliveryAttemptRecorded{}.EventType(),
}}

// Defaults of the Reactor's fields.
const (
	DefaultMaxAge = 24 * time.Hour
	saveInterval  = time.Second
	retryFirst    = 100 * time.Millisecond
	retryMax      = 30 * time.Second
)

// Reactor follows the log and publishes the operational events its facts
// call for. Set the fields, then Open and Run.
type Reactor struct {
	Store     eventstore.Store
	Codec     *eventstore.Codec
	DB        *bbolt.DB
	Publisher Publisher
	// Operational tells the catalogue's operational types, whose failed
	// deliveries report nothing further.
	Operational func(eventType string) bool
	// StartAt is where a reactor without a checkpoint begins: the read
	// models' position, so a reactor new to an existing log reports what
	// happens from then on rather than its history.
	StartAt func() eventstore.Position
	// MaxAge drops triggers recorded longer ago (a log replayed from its
	// start): they are folded but not published. Zero means DefaultMaxAge.
	MaxAge time.Duration
	Logger *slog.Logger
	Now    func() time.Time

	pos      eventstore.Position
	shown    atomic.Uint64 // pos, for Position from other goroutines
	saved    eventstore.Position
	health   domain.HealthWatch
	dirty    bool
	lastSave time.Time
}

// Open creates the reactor's bucket and loads its checkpoint and health
// watch; without a checkpoint it starts at StartAt.
func (r *Reactor) Open() error {
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r.DB.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return fmt.Errorf("operational: %w", err)
		}
		v := b.Get(keyCheckpoint)
		if len(v) != 8 {
			if r.StartAt != nil {
				r.pos = r.StartAt()
				r.shown.Store(uint64(r.pos))
			}
			r.saved = ^eventstore.Position(0) // unsaved: the first save writes it
			return nil
		}
		r.pos = eventstore.Position(binary.BigEndian.Uint64(v))
		r.saved = r.pos
		r.shown.Store(uint64(r.pos))
		if h := b.Get(keyHealth); len(h) > 0 {
			if err := json.Unmarshal(h, &r.health); err != nil {
				return fmt.Errorf("operational: health watch: %w", err)
			}
		}
		return nil
	})
}

// Position is the last log position the reactor has handled.
func (r *Reactor) Position() eventstore.Position { return eventstore.Position(r.shown.Load()) }

// Run follows the log until ctx ends, subscribing again with back-off
// when the subscription fails, and saves its checkpoint on the way out.
func (r *Reactor) Run(ctx context.Context) error {
	wait := retryFirst
	for {
		err := r.follow(ctx)
		if serr := r.save(); serr != nil {
			r.Logger.Error("operational events: save checkpoint", "err", serr)
		}
		if ctx.Err() != nil {
			return nil
		}
		r.Logger.Error("operational events: subscription failed; subscribing again", "err", err, "position", r.pos, "retry_in", wait)
		if !sleep(ctx, wait) {
			return nil
		}
		wait = min(wait*2, retryMax)
	}
}

func (r *Reactor) follow(ctx context.Context) error {
	sub, err := r.Store.SubscribeAll(ctx, r.pos, filter)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer sub.Close()
	for {
		rec, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, eventstore.ErrSubscriptionClosed) {
				return ctx.Err()
			}
			return err
		}
		if err := r.handle(ctx, rec); err != nil {
			return err // stopping: the event is handled again next time
		}
		r.pos = rec.Position
		r.shown.Store(uint64(r.pos))
		if r.dirty || time.Since(r.lastSave) >= saveInterval {
			if err := r.save(); err != nil {
				return err
			}
		}
	}
}

// handle reacts to one log event, retrying what the store refuses until
// it succeeds or ctx ends.
func (r *Reactor) handle(ctx context.Context, rec eventstore.RecordedEvent) error {
	ev, err := r.Codec.Decode(rec)
	if err != nil {
		r.Logger.Error("operational events: skipping an event that does not decode", "position", rec.Position, "type", rec.Type, "err", err)
		return nil
	}
	wait := retryFirst
	for {
		re, err := r.react(ctx, rec, ev)
		if err == nil && re.publish && r.fresh(rec) {
			_, err = r.Publisher.PublishOperational(ctx, re.msg)
		}
		if err == nil {
			if re.apply != nil && re.apply(&r.health) {
				r.dirty = true
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.Logger.Warn("operational events: publishing failed; retrying", "position", rec.Position, "type", rec.Type, "err", err, "retry_in", wait)
		if !sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(wait*2, retryMax)
	}
}

// fresh reports whether rec is recent enough to publish about.
func (r *Reactor) fresh(rec eventstore.RecordedEvent) bool {
	age := r.MaxAge
	if age <= 0 {
		age = DefaultMaxAge
	}
	return rec.Time.IsZero() || r.Now().Sub(rec.Time) <= age
}

// save writes the checkpoint and the health watch in one transaction, so
// a restart resumes from a consistent pair.
func (r *Reactor) save() error {
	if r.pos == r.saved && !r.dirty {
		return nil
	}
	h, err := json.Marshal(r.health)
	if err != nil {
		return err
	}
	err = r.DB.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(r.pos))
		if err := b.Put(keyCheckpoint, buf[:]); err != nil {
			return err
		}
		return b.Put(keyHealth, h)
	})
	if err != nil {
		return fmt.Errorf("operational: save checkpoint: %w", err)
	}
	r.saved, r.dirty, r.lastSave = r.pos, false, time.Now()
	return nil
}

func (r *Reactor) webhook(ctx context.Context, id string) (domain.WebhookState, error) {
	s, _, err := aggregate.Load(ctx, r.Store, r.Codec, domain.WebhookStream(id), domain.EvolveWebhook)
	return s, err
}

// deliveryFacts is what delivery.failed reports of the delivery e ended:
// its message and type from the stream's first event (one event read,
// however many attempts follow it) and e's attempts. ID is empty when the
// stream is gone (retention).
func (r *Reactor) deliveryFacts(ctx context.Context, e domain.DeliveryFailed) (domain.DeliveryState, error) {
	recs, err := r.Store.ReadStream(ctx, domain.DeliveryStream(e.DeliveryID), 0, 1)
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && len(recs) == 0) {
		return domain.DeliveryState{}, nil
	}
	if err != nil {
		return domain.DeliveryState{}, err
	}
	ev, err := r.Codec.Decode(recs[0])
	if err != nil {
		return domain.DeliveryState{}, err
	}
	s, ok := ev.(domain.DeliveryScheduled)
	if first, opens := ev.(domain.DeliveryAttemptRecorded); opens && first.OpensStream() {
		s, ok = first.Scheduled(), true
	}
	if !ok {
		return domain.DeliveryState{}, nil
	}
	return domain.DeliveryState{ID: s.DeliveryID, MessageID: s.MessageID, WebhookID: s.WebhookID, AccountID: s.AccountID,
		EventType: s.MessageType, Test: s.Test, Attempts: e.Attempts, Status: domain.DeliveryStatusFailed}, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
