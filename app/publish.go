package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/tracing"
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
func (a *App) Publish(ctx context.Context, events []PublishInput) ([]PublishResult, error) {
	if len(events) > MaxPublishBatch {
		return nil, domain.FieldErrorf(domain.ETOOLARGE, "events", "at most %d events per call, got %d", MaxPublishBatch, len(events))
	}
	results := make([]PublishResult, len(events))
	sem := make(chan struct{}, publishParallelism)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fault error
	// A key repeated within the batch is a duplicate of its first use,
	// whichever append would have finished first.
	firstUse := map[[2]string]int{}
	repeats := map[int]int{}
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
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := a.publishOne(ctx, in)
			if err != nil {
				mu.Lock()
				fault = err
				mu.Unlock()
				return
			}
			results[i] = res
		}()
	}
	wg.Wait()
	if fault != nil {
		if IsStoreUnavailable(fault) {
			a.Logger.ErrorContext(ctx, "publish refused: the store is not accepting writes", "err", fault)
		}
		return results, fault
	}
	for i, first := range repeats {
		results[i] = PublishResult{MessageID: results[first].MessageID, Duplicate: true, Err: results[first].Err}
	}
	return results, nil
}

func (a *App) validatePublish(in PublishInput) *domain.Error {
	switch {
	case !accountID.MatchString(in.Account):
		return domain.FieldErrorf(domain.EINVALID, "account", "account must be 1 to 64 letters, digits, '.', '_' or '-'")
	case in.Type == "":
		return domain.FieldErrorf(domain.EINVALID, "type", "type is required")
	case !a.Catalogue.Known(in.Type):
		return domain.FieldErrorf(domain.EINVALID, "type", "unknown event type %q", in.Type)
	case len(in.Data) > MaxEventDataSize:
		return domain.FieldErrorf(domain.ETOOLARGE, "data", "data is %d bytes; the limit is %d", len(in.Data), MaxEventDataSize)
	case len(in.Data) == 0 || !json.Valid(in.Data):
		return domain.FieldErrorf(domain.EINVALID, "data", "data must be valid JSON")
	case len(in.ID) > 200:
		return domain.FieldErrorf(domain.EINVALID, "id", "id must be at most 200 characters")
	}
	return nil
}

func (a *App) publishOne(ctx context.Context, in PublishInput) (PublishResult, error) {
	span, traceparent := a.Tracer.StartPublish(ctx, in.Account, in.Type)
	res, err := a.publishMessage(ctx, in, traceparent)
	tracing.EndPublish(span, res.MessageID, res.Duplicate, err)
	return res, err
}

func (a *App) publishMessage(ctx context.Context, in PublishInput, traceparent string) (PublishResult, error) {
	now := a.Now()
	msg := domain.MessagePublished{AccountID: in.Account, Type: in.Type, Data: in.Data, IdempotencyKey: in.ID, PublishedAt: now,
		Traceparent: traceparent}
	if in.ID == "" {
		msg.MessageID = uuid.Must(uuid.NewV7()).String()
		_, err := a.appendEvents(ctx, domain.MessageStream(msg.MessageID), eventstore.NoStream, msg)
		return PublishResult{MessageID: msg.MessageID}, err
	}
	// Keyed: the message ID derives from the key and the window it falls
	// in. The previous window's message still counts while it is younger
	// than the window; within one window the NoStream append decides.
	window := a.idempotencyWindow()
	epoch := now.UnixNano() / int64(window)
	if prev, ok, err := a.readMessage(ctx, keyedMessageID(in.Account, in.ID, epoch-1)); err != nil {
		return PublishResult{}, err
	} else if ok && now.Sub(prev.PublishedAt) < window {
		return PublishResult{MessageID: prev.MessageID, Duplicate: true}, nil
	}
	msg.MessageID = keyedMessageID(in.Account, in.ID, epoch)
	_, err := a.appendEvents(ctx, domain.MessageStream(msg.MessageID), eventstore.NoStream, msg)
	if eventstore.IsWrongExpectedVersion(err) {
		return PublishResult{MessageID: msg.MessageID, Duplicate: true}, nil
	}
	return PublishResult{MessageID: msg.MessageID}, err
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
