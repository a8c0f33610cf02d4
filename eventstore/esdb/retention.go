package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/webhookd/webhookd/eventstore"
)

// Retention.
//
// EventStoreDB honours $maxAge only in the metadata of the stream it is set
// on: there is no per-category setting, and $maxAge on the $ce-<category>
// projection stream bounds that stream's links, not the streams it indexes.
// The port asks for a per-category age, so:
//
//   - SetMaxAge writes the age as $maxAge on $ce-<category>. That bounds the
//     category stream itself and, more usefully, is the durable record of the
//     setting that every webhookd instance reads.
//   - The first append to a new stream of that category (the append that
//     creates it) then writes the same $maxAge to the new stream's metadata.
//
// Streams that already existed when the age was set keep their old
// retention; webhookd sets its ages at startup, before it writes. Each
// instance caches a category's age for cacheTTL, so a change made elsewhere
// reaches new streams within that time.

// cacheTTL bounds how long a category's age is trusted before re-reading it.
const cacheTTL = time.Minute

// retention applies per-category ages to new streams.
type retention struct {
	client *esdb.Client
	now    func() time.Time

	mu   sync.Mutex
	ages map[string]cachedAge // by category
}

type cachedAge struct {
	age     time.Duration // zero: no limit
	fetched time.Time
}

func newRetention(client *esdb.Client, now func() time.Time) *retention {
	return &retention{client: client, now: now, ages: make(map[string]cachedAge)}
}

// categoryStream is the stream whose metadata records a category's age.
func categoryStream(category string) string { return "$ce-" + category }

// maxAgeMetadata is the stream metadata for a retention of age; zero clears
// it. EventStoreDB counts $maxAge in whole seconds and needs at least one,
// so ages are rounded up rather than truncated to "no limit".
func maxAgeMetadata(age time.Duration) esdb.StreamMetadata {
	var m esdb.StreamMetadata
	if age > 0 {
		m.SetMaxAge((age + time.Second - 1).Truncate(time.Second))
	}
	return m
}

// set records a category's age on the server and in the cache.
func (r *retention) set(ctx context.Context, category string, age time.Duration) error {
	if category == "" || age < 0 {
		return fmt.Errorf("set max age of %q to %s: %w", category, age, eventstore.ErrInvalidEvent)
	}
	meta := maxAgeMetadata(age)
	if _, err := r.client.SetStreamMetadata(ctx, categoryStream(category), esdb.AppendToStreamOptions{}, meta); err != nil {
		return fmt.Errorf("set max age of %s: %w", category, mapCommonError(ctx, err))
	}
	r.mu.Lock()
	r.ages[category] = cachedAge{age: age, fetched: r.now()}
	r.mu.Unlock()
	return nil
}

// applyToNewStream gives a just-created stream its category's age, if any.
func (r *retention) applyToNewStream(ctx context.Context, stream string) error {
	category := eventstore.Category(stream)
	age, err := r.age(ctx, category)
	if err != nil || age == 0 {
		return err
	}
	if _, err := r.client.SetStreamMetadata(ctx, stream, esdb.AppendToStreamOptions{}, maxAgeMetadata(age)); err != nil {
		return fmt.Errorf("set max age of new stream: %w", mapCommonError(ctx, err))
	}
	return nil
}

// age returns a category's age from the cache, re-reading it from the
// category stream's metadata when missing or stale.
func (r *retention) age(ctx context.Context, category string) (time.Duration, error) {
	r.mu.Lock()
	c, ok := r.ages[category]
	r.mu.Unlock()
	if ok && r.now().Sub(c.fetched) < cacheTTL {
		return c.age, nil
	}
	meta, err := r.client.GetStreamMetadata(ctx, categoryStream(category), esdb.ReadStreamOptions{})
	var age time.Duration
	var e *esdb.Error
	switch {
	case errors.As(err, &e) && e.Code() == esdb.ErrorCodeResourceNotFound:
		// Never set: no limit.
	case err != nil:
		return 0, fmt.Errorf("read max age of %s: %w", category, mapCommonError(ctx, err))
	case meta.MaxAge() != nil:
		age = *meta.MaxAge()
	}
	r.mu.Lock()
	r.ages[category] = cachedAge{age: age, fetched: r.now()}
	r.mu.Unlock()
	return age, nil
}
