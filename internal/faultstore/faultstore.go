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
	allowed   int // appends still let through while appendErr is set
	readErr   error
	refused   atomic.Int64
}

var (
	_ eventstore.Store         = (*Store)(nil)
	_ eventstore.BatchAppender = (*Store)(nil)
)

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

// FailAppendsAfter lets the next n appends through (each stream's part of
// a batch append counts as one) and then fails every append with err until
// Heal: a disk that fills up partway through a batch.
func (s *Store) FailAppendsAfter(n int, err error) {
	s.mu.Lock()
	s.appendErr, s.allowed = err, n
	s.mu.Unlock()
}

// Heal clears every fault.
func (s *Store) Heal() {
	s.mu.Lock()
	s.appendErr, s.readErr, s.allowed = nil, nil, 0
	s.mu.Unlock()
}

// RefusedAppends is how many appends failed because of an injected fault.
func (s *Store) RefusedAppends() int64 { return s.refused.Load() }

func (s *Store) faults() (appendErr, readErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendErr, s.readErr
}

// appendFault returns the fault of the next append, if any, using up one
// of the appends FailAppendsAfter lets through.
func (s *Store) appendFault() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appendErr == nil {
		return nil
	}
	if s.allowed > 0 {
		s.allowed--
		return nil
	}
	s.refused.Add(1)
	return s.appendErr
}

// Append fails while an append fault is set, and appends otherwise.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := s.appendFault(); err != nil {
		return eventstore.AppendResult{}, err
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// AppendBatch applies the append fault to each stream's part in order and
// hands the rest to the real store's batch append (or its Append), so a
// batch can fail partway through.
func (s *Store) AppendBatch(ctx context.Context, appends []eventstore.StreamAppend) []eventstore.BatchResult {
	out := make([]eventstore.BatchResult, len(appends))
	var pass []eventstore.StreamAppend
	var at []int
	for i, a := range appends {
		if err := s.appendFault(); err != nil {
			out[i].Err = err
			continue
		}
		pass, at = append(pass, a), append(at, i)
	}
	if b, ok := s.Store.(eventstore.BatchAppender); ok {
		for k, r := range b.AppendBatch(ctx, pass) {
			out[at[k]] = r
		}
		return out
	}
	for k, a := range pass {
		res, err := s.Store.Append(ctx, a.Stream, a.Expected, a.Events...)
		out[at[k]] = eventstore.BatchResult{Result: res, Err: err}
	}
	return out
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
