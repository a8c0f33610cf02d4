// Package faultstore wraps a real event store so tests can make its writes
// (or reads) fail on demand, as a full disk or a lost connection would.
// Everything else goes through to the real store: tests keep real
// behaviour and only the fault is injected.
package faultstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// Store is an eventstore.Store whose appends and reads fail while a fault
// is set. It counts the appends it refused, so a test can bound retries.
type Store struct {
	eventstore.Store

	mu        sync.Mutex
	appendErr error
	readErr   error
	refused   atomic.Int64
}

var _ eventstore.Store = (*Store)(nil)

// Wrap returns s with no fault set.
func Wrap(s eventstore.Store) *Store { return &Store{Store: s} }

// FailAppends makes every append fail with err until Heal is called.
func (s *Store) FailAppends(err error) {
	s.mu.Lock()
	s.appendErr = err
	s.mu.Unlock()
}

// FailReads makes ReadStream and ReadAll fail with err until Heal.
func (s *Store) FailReads(err error) {
	s.mu.Lock()
	s.readErr = err
	s.mu.Unlock()
}

// Heal clears every fault.
func (s *Store) Heal() {
	s.mu.Lock()
	s.appendErr, s.readErr = nil, nil
	s.mu.Unlock()
}

// RefusedAppends is how many appends failed because of an injected fault.
func (s *Store) RefusedAppends() int64 { return s.refused.Load() }

func (s *Store) faults() (appendErr, readErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendErr, s.readErr
}

// Append fails while an append fault is set, and appends otherwise.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err, _ := s.faults(); err != nil {
		s.refused.Add(1)
		return eventstore.AppendResult{}, err
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// ReadStream fails while a read fault is set.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if _, err := s.faults(); err != nil {
		return nil, err
	}
	return s.Store.ReadStream(ctx, stream, from, limit)
}

// ReadAll fails while a read fault is set.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if _, err := s.faults(); err != nil {
		return nil, err
	}
	return s.Store.ReadAll(ctx, after, limit)
}

// SetMaxAge passes through; it is here so the wrapper's method set is
// explicit about what it does not intercept.
func (s *Store) SetMaxAge(ctx context.Context, category string, age time.Duration) error {
	return s.Store.SetMaxAge(ctx, category, age)
}
