package esdb

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// fakeAppends is the client's AppendToStream for Store.Append without a
// server: it answers each call with the next scripted error, then success,
// and records what every call sent.
type fakeAppends struct {
	mu     sync.Mutex
	script []error
	calls  []fakeCall
	called chan struct{} // one value per call, when non-nil
}

type fakeCall struct {
	expected esdb.ExpectedRevision
	ids      []uuid.UUID
}

func (f *fakeAppends) append(_ context.Context, _ string, opts esdb.AppendToStreamOptions, events ...esdb.EventData) (*esdb.WriteResult, error) {
	f.mu.Lock()
	defer func() {
		f.mu.Unlock()
		if f.called != nil {
			f.called <- struct{}{}
		}
	}()
	c := fakeCall{expected: opts.ExpectedRevision}
	for _, e := range events {
		c.ids = append(c.ids, e.EventID)
	}
	f.calls = append(f.calls, c)
	if i := len(f.calls) - 1; i < len(f.script) && f.script[i] != nil {
		return nil, f.script[i]
	}
	return &esdb.WriteResult{CommitPosition: 500, PreparePosition: 500, NextExpectedVersion: 4}, nil
}

// fakeStore is a Store whose appends go to f, whose back-off is too short
// to matter, and whose category "delivery" is known to have no retention,
// so nothing else reaches for a server.
func fakeStore(f *fakeAppends) *Store {
	now := time.Now()
	r := newRetention(nil, func() time.Time { return now })
	r.ages["delivery"] = cachedAge{fetched: now}
	return &Store{appendFn: f.append, retry: retryPolicy{attempts: 4, first: time.Microsecond, max: time.Microsecond}, retention: r}
}

func twoEvents() []eventstore.EventData {
	return []eventstore.EventData{{ID: uuid.NewString(), Type: "delivery.attempted.v1"}, {ID: uuid.NewString(), Type: "delivery.succeeded.v1"}}
}

func notLeader() error   { return &codedErr{esdb.ErrorCodeNotLeader, "[ErrorCodeNotLeader] not leader"} }
func unavailable() error { return &codedErr{esdb.ErrorUnavailable, "[ErrorUnavailable] not ready"} }
func deadline() error {
	return &codedErr{esdb.ErrorCodeDeadlineExceeded, "[ErrorCodeDeadlineExceeded]"}
}

func TestAppendRetry(t *testing.T) {
	ctx := context.Background()
	t.Run("ExactResentWithTheSameIDsUntilItLands", func(t *testing.T) {
		f := &fakeAppends{script: []error{notLeader(), unavailable(), deadline()}}
		events := twoEvents()
		res, err := fakeStore(f).Append(ctx, "delivery-1", eventstore.Exact(2), events...)
		if err != nil {
			t.Fatalf("Append = %v, want success once the leader answers", err)
		}
		if res.NextRevision != 4 || res.Position != toPosition(pos(500)) {
			t.Fatalf("result %+v", res)
		}
		if len(f.calls) != 4 {
			t.Fatalf("%d calls, want 4", len(f.calls))
		}
		for i, c := range f.calls {
			if c.expected != esdb.Revision(2) || len(c.ids) != 2 || c.ids[0].String() != events[0].ID || c.ids[1].String() != events[1].ID {
				t.Fatalf("call %d sent %+v; want expected revision 2 and the caller's IDs %s, %s", i, c, events[0].ID, events[1].ID)
			}
		}
	})
	t.Run("NoStreamResent", func(t *testing.T) {
		f := &fakeAppends{script: []error{unavailable()}}
		if _, err := fakeStore(f).Append(ctx, "delivery-1", eventstore.NoStream, twoEvents()...); err != nil || len(f.calls) != 2 {
			t.Fatalf("Append = %v after %d calls; want success after 2", err, len(f.calls))
		}
	})
	for name, exp := range map[string]eventstore.ExpectedRevision{"AnyNotResent": eventstore.Any, "StreamExistsNotResent": eventstore.StreamExists} {
		t.Run(name, func(t *testing.T) {
			f := &fakeAppends{script: []error{notLeader()}}
			_, err := fakeStore(f).Append(ctx, "delivery-1", exp, twoEvents()...)
			if !eventstore.IsUnavailable(err) || len(f.calls) != 1 {
				t.Fatalf("Append = %v after %d calls; want ErrUnavailable after 1", err, len(f.calls))
			}
		})
	}
	t.Run("GivesUpAfterTheBound", func(t *testing.T) {
		f := &fakeAppends{script: []error{deadline(), deadline(), deadline(), deadline(), deadline()}}
		_, err := fakeStore(f).Append(ctx, "delivery-1", eventstore.Exact(0), twoEvents()...)
		if !eventstore.IsUnavailable(err) || len(f.calls) != 4 {
			t.Fatalf("Append = %v after %d calls; want ErrUnavailable after 4", err, len(f.calls))
		}
		var c coded
		if !errors.As(err, &c) || c.Code() != esdb.ErrorCodeDeadlineExceeded {
			t.Fatalf("the client's last error is not kept in %v", err)
		}
	})
	t.Run("WrongExpectedVersionNotResent", func(t *testing.T) {
		f := &fakeAppends{script: []error{notLeader(), wevReply}}
		_, err := fakeStore(f).Append(ctx, "delivery-1", eventstore.Exact(1), twoEvents()...)
		var w *eventstore.WrongExpectedVersionError
		if !errors.As(err, &w) || !w.ActualExists || w.Actual != 3 || len(f.calls) != 2 {
			t.Fatalf("Append = %v after %d calls; want WrongExpectedVersion at 3 after 2", err, len(f.calls))
		}
	})
	t.Run("OtherErrorsNotResent", func(t *testing.T) {
		f := &fakeAppends{script: []error{&codedErr{esdb.ErrorCodeAccessDenied, "denied"}}}
		_, err := fakeStore(f).Append(ctx, "delivery-1", eventstore.Exact(1), twoEvents()...)
		if err == nil || eventstore.IsUnavailable(err) || len(f.calls) != 1 {
			t.Fatalf("Append = %v after %d calls; want the refusal after 1", err, len(f.calls))
		}
	})
	t.Run("ContextEndsWhileWaiting", func(t *testing.T) {
		f := &fakeAppends{script: []error{notLeader(), notLeader()}, called: make(chan struct{}, 4)}
		s := fakeStore(f)
		s.retry = retryPolicy{attempts: 4, first: time.Hour, max: time.Hour}
		cctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() {
			_, err := s.Append(cctx, "delivery-1", eventstore.Exact(1), twoEvents()...)
			errc <- err
		}()
		<-f.called
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) || len(f.calls) != 1 {
			t.Fatalf("Append = %v after %d calls; want context.Canceled after 1", err, len(f.calls))
		}
	})
}
