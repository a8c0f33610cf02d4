package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// Publishing limits.
const (
	MaxPublishBatch  = 1000
	MaxEventDataSize = 256 << 10
	// publishParallelism bounds concurrent appends of one batch; the store
	// group-commits them.
	publishParallelism = 64
)

// DefaultIdempotencyWindow is how long a publisher's event id deduplicates.
const DefaultIdempotencyWindow = 24 * time.Hour

// idempotencyNamespace derives message IDs from publisher-given ids.
var idempotencyNamespace = uuid.MustParse("6f1c7f5e-8f0b-4c59-9a57-2d9a7f1e0c11")

// PublishInput is one event from the platform.
type PublishInput struct {
	// ID is the publisher's idempotency key; optional.
	ID      string
	Account string
	Type    string
	Data    json.RawMessage
}

// PublishResult tells what became of one event: its message ID, whether it
// repeated an earlier one, or the user error that refused it.
type PublishResult struct {
	MessageID string
	Duplicate bool
	Err       *domain.Error
}

// Publish records each event as a message.published event. Events are
// independent: a refused one does not refuse the others. When Publish
// returns, every accepted event is durable; deliveries follow from the
// log. A repeated ID within the idempotency window returns the original
// message and creates no deliveries.
//
// A store that refuses writes partway through a batch leaves some events
// accepted: those get their message IDs, the others a STORE_UNAVAILABLE
// error of their own, so the caller resends exactly those. Only when
// nothing was accepted is the fault returned for the whole call.
func (a *App) Publish(ctx context.Context, events []PublishInput) ([]PublishResult, error) {
	if len(events) > MaxPublishBatch {
		return nil, domain.FieldErrorf(domain.ETOOLARGE, "events", "at most %d events per call, got %d", MaxPublishBatch, len(events))
	}
	results := make([]PublishResult, len(events))
	faults := map[int]error{}
	spans := a.startPublishSpans(ctx, events)
	defer spans.end(results, faults)
	// A key repeated within the batch is a duplicate of its first use.
	firstUse := map[[2]string]int{}
	repeats := map[int]int{}
	var plan []planned
	for i, in := range events {
		if err := a.validatePublish(in); err != nil {
			results[i].Err = err
			continue
		}
		if in.ID != "" {
			k := [2]string{in.Account, in.ID}
			if first, seen := firstUse[k]; seen {
				repeats[i] = first
				continue
			}
			firstUse[k] = i
		}
		p, dup, err := a.planOne(ctx, i, in)
		switch {
		case err != nil:
			faults[i] = err
		case dup != nil:
			results[i] = *dup
		default:
			p.msg.Traceparent = spans.traceparent(i)
			plan = append(plan, p)
		}
	}
	for k, err := range a.appendPlanned(ctx, plan) {
		p := plan[k]
		switch {
		case err == nil:
			results[p.index] = PublishResult{MessageID: p.msg.MessageID}
		case p.msg.IdempotencyKey != "" && eventstore.IsWrongExpectedVersion(err):
			results[p.index] = PublishResult{MessageID: p.msg.MessageID, Duplicate: true}
		default:
			faults[p.index] = err
		}
	}
	if err := a.settleFaults(ctx, results, faults); err != nil {
		return results, err
	}
	for i, first := range repeats {
		results[i] = PublishResult{MessageID: results[first].MessageID, Duplicate: true, Err: results[first].Err}
	}
	return results, nil
}

// errEventStoreUnavailable is one event's status when the store refused
// it while accepting others of the same call.
var errEventStoreUnavailable = &domain.Error{
	Code:    domain.ESTOREUNAVAILABLE,
	Message: "the event store refused this event (for example, its disk is full); it was not accepted; retry it later",
}

// settleFaults turns the events a failing store refused into their own
// STORE_UNAVAILABLE results when others were accepted, and otherwise
// returns the fault for the whole call.
func (a *App) settleFaults(ctx context.Context, results []PublishResult, faults map[int]error) error {
	if len(faults) == 0 {
		return nil
	}
	var fault error
	partial := true
	for _, err := range faults {
		fault = err
		partial = partial && IsStoreUnavailable(err)
	}
	if partial {
		partial = slices.ContainsFunc(results, func(r PublishResult) bool { return r.MessageID != "" })
	}
	if IsStoreUnavailable(fault) {
		a.Logger.ErrorContext(ctx, "publish refused: the store is not accepting writes", "err", fault,
			"refused", len(faults), "accepted_before", partial)
	}
	if !partial {
		return fault
	}
	for i := range faults {
		results[i] = PublishResult{Err: errEventStoreUnavailable}
	}
	return nil
}

// planned is an event ready to append: its message and where it goes.
type planned struct {
	index int
	msg   domain.MessagePublished
}

// planOne gives the event its message ID. A keyed event whose key the
// previous idempotency window already holds is a duplicate (dup); within
// one window the NoStream append decides.
func (a *App) planOne(ctx context.Context, i int, in PublishInput) (p planned, dup *PublishResult, err error) {
	now := a.Now()
	msg := domain.MessagePublished{AccountID: in.Account, Type: in.Type, Data: in.Data, IdempotencyKey: in.ID, PublishedAt: now}
	if in.ID == "" {
		msg.MessageID = uuid.Must(uuid.NewV7()).String()
		return planned{index: i, msg: msg}, nil, nil
	}
	window := a.idempotencyWindow()
	epoch := now.UnixNano() / int64(window)
	if prev, ok, err := a.readMessage(ctx, keyedMessageID(in.Account, in.ID, epoch-1)); err != nil {
		return p, nil, err
	} else if ok && now.Sub(prev.PublishedAt) < window {
		return p, &PublishResult{MessageID: prev.MessageID, Duplicate: true}, nil
	}
	msg.MessageID = keyedMessageID(in.Account, in.ID, epoch)
	return planned{index: i, msg: msg}, nil, nil
}

// appendPlanned appends each planned message to its own stream with
// NoStream and returns each append's error: in one batch append where
// the store takes one (a few group commits for a thousand messages),
// else in up to publishParallelism concurrent appends.
func (a *App) appendPlanned(ctx context.Context, plan []planned) []error {
	errs := make([]error, len(plan))
	batch := make([]eventstore.StreamAppend, 0, len(plan))
	at := make([]int, 0, len(plan))
	for k, p := range plan {
		d, err := a.Codec.Encode(p.msg)
		if err != nil {
			errs[k] = err
			continue
		}
		batch = append(batch, eventstore.StreamAppend{Stream: domain.MessageStream(p.msg.MessageID), Expected: eventstore.NoStream, Events: []eventstore.EventData{d}})
		at = append(at, k)
	}
	if b, ok := a.Store.(eventstore.BatchAppender); ok {
		for j, r := range b.AppendBatch(ctx, batch) {
			errs[at[j]] = classifyAppend(batch[j].Stream, r.Err)
		}
		return errs
	}
	sem := make(chan struct{}, publishParallelism)
	var wg sync.WaitGroup
	for j, sa := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := a.Store.Append(ctx, sa.Stream, sa.Expected, sa.Events...)
			errs[at[j]] = classifyAppend(sa.Stream, err)
		})
	}
	wg.Wait()
	return errs
}

func (a *App) validatePublish(in PublishInput) *domain.Error {
	switch {
	case !accountID.MatchString(in.Account):
		return domain.FieldErrorf(domain.EINVALID, "account", "account must be 1 to 64 letters, digits, '.', '_' or '-'")
	case in.Type == "":
		return domain.FieldErrorf(domain.EINVALID, "type", "type is required")
	case !a.Catalogue.Known(in.Type):
		return domain.FieldErrorf(domain.EINVALID, "type", "unknown event type %q", in.Type)
	case a.isOperational(in.Type):
		return domain.FieldErrorf(domain.EINVALID, "type", "%q is an operational event type, which only webhookd itself publishes", in.Type)
	case len(in.Data) > MaxEventDataSize:
		return domain.FieldErrorf(domain.ETOOLARGE, "data", "data is %d bytes; the limit is %d", len(in.Data), MaxEventDataSize)
	case len(in.Data) == 0 || !json.Valid(in.Data):
		return domain.FieldErrorf(domain.EINVALID, "data", "data must be valid JSON")
	case len(in.ID) > 200:
		return domain.FieldErrorf(domain.EINVALID, "id", "id must be at most 200 characters")
	}
	return nil
}

func (a *App) idempotencyWindow() time.Duration {
	if a.IdempotencyWindow > 0 {
		return a.IdempotencyWindow
	}
	return DefaultIdempotencyWindow
}

func keyedMessageID(account, key string, epoch int64) string {
	return uuid.NewSHA1(idempotencyNamespace, fmt.Appendf(nil, "%s\x00%s\x00%d", account, key, epoch)).String()
}

func (a *App) readMessage(ctx context.Context, id string) (domain.MessagePublished, bool, error) {
	events, err := a.loadEvents(ctx, domain.MessageStream(id))
	if err != nil || len(events) == 0 {
		return domain.MessagePublished{}, false, err
	}
	m, ok := events[0].(domain.MessagePublished)
	return m, ok, nil
}

// appendEvents encodes and appends without waiting for the read models.
func (a *App) appendEvents(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.Event) (eventstore.AppendResult, error) {
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		d, err := a.Codec.Encode(e)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		data[i] = d
	}
	res, err := a.Store.Append(ctx, stream, expected, data...)
	return res, classifyAppend(stream, err)
}
