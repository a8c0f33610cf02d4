package esdb

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

var _ coded = (*esdb.Error)(nil) // the client's error is what codeOf finds

// codedErr stands in for *esdb.Error with a given code: the client's error
// type has no exported constructor for any code but Unknown.
type codedErr struct {
	code esdb.ErrorCode
	msg  string
}

func (e *codedErr) Error() string        { return e.msg }
func (e *codedErr) Code() esdb.ErrorCode { return e.code }

// The v4 client's two spellings of a failed concurrency check: the append
// reply (its own code, revision in the text) and the server's gRPC exception
// (no code the client knows, revision only in dropped trailers).
var wevReply = &codedErr{esdb.ErrorCodeWrongExpectedVersion, "[ErrorCodeWrongExpectedVersion] an append request failed the optimistic concurrency on the server: wrong expected version: expecting '1' but got '3'"}

func exceptionForm() error {
	// esdb.FromError is how the client wraps what it cannot classify: the
	// real type, code Unknown.
	e, _ := esdb.FromError(errors.New("rpc error: code = FailedPrecondition desc = Append failed due to WrongExpectedVersion. Stream: delivery-1, Expected version: 1"))
	return e
}

func TestIsWrongExpectedVersion(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"ByCode", wevReply, true},
		{"ByCodeWrapped", fmt.Errorf("could not send append request. Reason: %w", wevReply), true},
		{"ByCodeWhateverTheText", &codedErr{esdb.ErrorCodeWrongExpectedVersion, "something new"}, true},
		{"ExceptionFormByText", exceptionForm(), true},
		{"UncodedByText", errors.New("wrong expected version: expecting '1' but got '3'"), true},
		{"OtherCodeNotByText", &codedErr{esdb.ErrorCodeNotLeader, "not leader; wrong expected version would be next"}, false},
		{"Unrelated", errors.New("connection reset"), false},
		{"UnknownCodeUnrelated", func() error { e, _ := esdb.FromError(errors.New("boom")); return e }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isWrongExpectedVersion(tt.err); got != tt.want {
				t.Fatalf("isWrongExpectedVersion(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	t.Run("ExceptionFormHasNoRevisionInText", func(t *testing.T) {
		// appendError then asks the server (conformance suite).
		if _, _, ok := parseActual(exceptionForm().Error()); ok {
			t.Fatal("parsed a revision the exception text does not carry")
		}
	})
}

func TestMapCommonError(t *testing.T) {
	bg := context.Background()
	for _, code := range []esdb.ErrorCode{esdb.ErrorCodeNotLeader, esdb.ErrorUnavailable, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorAborted} {
		t.Run(fmt.Sprintf("Unavailable%d", code), func(t *testing.T) {
			in := &codedErr{code, "x"}
			got := mapCommonError(bg, in)
			if !eventstore.IsUnavailable(got) || !errors.Is(got, in) {
				t.Fatalf("got %v, want ErrUnavailable wrapping the client's error", got)
			}
		})
	}
	t.Run("Closed", func(t *testing.T) {
		if got := mapCommonError(bg, &codedErr{esdb.ErrorCodeConnectionClosed, "x"}); !errors.Is(got, eventstore.ErrClosed) || eventstore.IsUnavailable(got) {
			t.Fatalf("got %v, want ErrClosed", got)
		}
	})
	t.Run("OtherPassesThrough", func(t *testing.T) {
		in := &codedErr{esdb.ErrorCodeAccessDenied, "x"}
		if got := mapCommonError(bg, in); got != in {
			t.Fatalf("got %v, want the error unchanged", got)
		}
	})
	t.Run("ContextFirst", func(t *testing.T) {
		ctx, cancel := context.WithCancel(bg)
		cancel()
		if got := mapCommonError(ctx, &codedErr{esdb.ErrorCodeDeadlineExceeded, "x"}); !errors.Is(got, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", got)
		}
	})
	t.Run("ReadNotFound", func(t *testing.T) {
		for _, code := range []esdb.ErrorCode{esdb.ErrorCodeResourceNotFound, esdb.ErrorCodeStreamDeleted} {
			if got := mapReadError(bg, &codedErr{code, "x"}); !errors.Is(got, eventstore.ErrStreamNotFound) {
				t.Errorf("code %d: got %v, want ErrStreamNotFound", code, got)
			}
		}
	})
}

// panicky is a stream whose Recv panics the way the client's ReadStream.Recv
// does on a reply it does not know.
type panicky struct{}

func (panicky) Recv() (*esdb.ResolvedEvent, error) { panic("unreachable code") }

type oneEvent struct{ ev *esdb.ResolvedEvent }

func (o oneEvent) Recv() (*esdb.ResolvedEvent, error) { return o.ev, nil }

func TestRecv(t *testing.T) {
	t.Run("PanicBecomesError", func(t *testing.T) {
		ev, err := recv(panicky{})
		if ev != nil || !errors.Is(err, errUnexpectedMessage) {
			t.Fatalf("recv = %v, %v; want errUnexpectedMessage", ev, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		want := &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{EventID: uuid.New()}}
		if ev, err := recv(oneEvent{want}); err != nil || ev != want {
			t.Fatalf("recv = %v, %v", ev, err)
		}
	})
}

// panickyReceiver is a subscription whose Recv panics.
type panickyReceiver struct{}

func (panickyReceiver) Recv() *esdb.SubscriptionEvent { panic("unreachable code") }
func (panickyReceiver) Close() error                  { return nil }

func TestSubscriptionPanicDrops(t *testing.T) {
	sub := newSubscription(context.Background(), panickyReceiver{}, eventstore.Start, eventstore.Filter{}, &Store{subs: map[*subscription]struct{}{}})
	go sub.pump() // without recovery the panic here ends the test binary
	t.Cleanup(func() { sub.Close() })
	if _, err := sub.Next(context.Background()); !errors.Is(err, errUnexpectedMessage) {
		t.Fatalf("Next = %v, want the subscription dropped with errUnexpectedMessage", err)
	}
}
