// Package eventstoretest is the conformance suite every eventstore.Store
// backend runs, so that the embedded store, the EventStoreDB adapter and
// the PostgreSQL store behave the same to the code above them.
//
// The suite is written to run against a shared server as well as a fresh
// file: it names streams and event types with random suffixes, never
// assumes the global log is empty, and reads the global log only from just
// before its own first event, filtering to its own streams.
package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// Run runs the conformance suite. open must return a ready store that no
// other test writes the suite's (randomly named) streams to; the suite
// closes each store it opens when the subtest ends, so Close must tolerate
// being called twice.
func Run(t *testing.T, open func(t *testing.T) eventstore.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, eventstore.Store)
	}{
		{"AppendAndReadStream", testAppendAndReadStream},
		{"ReadStreamFromAndLimit", testReadStreamFromAndLimit},
		{"ExpectedRevision", testExpectedRevision},
		{"ConcurrentWritersOneWins", testConcurrentWritersOneWins},
		{"GlobalOrder", testGlobalOrder},
		{"Idempotent", testIdempotent},
		{"InvalidEvent", testInvalidEvent},
		{"LargeEvent", testLargeEvent},
		{"EventTooLarge", testEventTooLarge},
		{"StreamNotFound", testStreamNotFound},
		{"CancelledContext", testCancelledContext},
		{"SetMaxAgeKeepsRecentEvents", testSetMaxAge},
		{"SubscribeCatchUpThenLive", testSubscribeCatchUpThenLive},
		{"SubscribeConcurrentAppends", testSubscribeConcurrentAppends},
		{"LiveReadersSeeEveryCommit", testLiveReadersSeeEveryCommit},
		{"SubscribeTypePrefixFilter", testSubscribeFilter},
		{"SubscriptionClose", testSubscriptionClose},
		{"SubscriptionContext", testSubscriptionContext},
		{"StoreCloseEndsSubscriptions", testStoreClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

// testContext bounds every subtest so a hung backend fails instead of
// stalling the run.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// suffix is random enough that no two runs against one server collide.
func suffix() string { return strings.ReplaceAll(uuid.NewString(), "-", "")[:16] }

// newStream returns a unique stream name in category conformance.
func newStream() string { return "conformance-" + suffix() }

// newTypePrefix returns a unique event-type prefix such as "ct3f9a….".
func newTypePrefix() string { return "ct" + suffix() + "." }

// event builds an event with a fresh ID and a small JSON body.
func event(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID:       uuid.NewString(),
		Type:     typ,
		Data:     fmt.Appendf(nil, `{"n":%d}`, n),
		Metadata: []byte(`{"source":"conformance"}`),
	}
}

// events builds n events of one type.
func events(typ string, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = event(typ, i)
	}
	return out
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(testContext(t), stream, exp, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s at %s: %v", len(evs), stream, exp, err)
	}
	return res
}

func mustRead(t *testing.T, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	got, err := s.ReadStream(testContext(t), stream, 0, 100_000)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return got
}

// wantWrongVersion asserts err is a WrongExpectedVersionError reporting
// the given actual state.
func wantWrongVersion(t *testing.T, err error, exists bool, actual uint64) {
	t.Helper()
	var w *eventstore.WrongExpectedVersionError
	if !errors.As(err, &w) {
		t.Fatalf("err = %v, want *WrongExpectedVersionError", err)
	}
	if w.ActualExists != exists || (exists && w.Actual != actual) {
		t.Fatalf("wrong version error reports exists=%v actual=%d, want exists=%v actual=%d", w.ActualExists, w.Actual, exists, actual)
	}
}

// sameEvent asserts a recorded event carries what was appended.
func sameEvent(t *testing.T, got eventstore.RecordedEvent, want eventstore.EventData, stream string, rev uint64) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || got.Stream != stream || got.Revision != rev ||
		string(got.Data) != string(want.Data) || string(got.Metadata) != string(want.Metadata) {
		t.Fatalf("recorded %s %s %s@%d data %.60q meta %q; want %s %s %s@%d data %.60q meta %q",
			got.ID, got.Type, got.Stream, got.Revision, got.Data, got.Metadata,
			want.ID, want.Type, stream, rev, want.Data, want.Metadata)
	}
}

// readAllMine reads the global log after position after, keeping only the
// events of streams in mine, until it has want of them or the log ends.
func readAllMine(t *testing.T, s eventstore.Store, after eventstore.Position, mine map[string]bool, want int) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for len(out) < want {
		page, err := s.ReadAll(testContext(t), after, 1000)
		if err != nil {
			t.Fatalf("read all after %d: %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Position <= after {
				t.Fatalf("read all after %d returned position %d", after, e.Position)
			}
			after = e.Position
			if mine[e.Stream] {
				out = append(out, e)
			}
		}
	}
	return out
}

// next reads one event from a subscription, failing the test on error.
func next(t *testing.T, sub eventstore.Subscription) eventstore.RecordedEvent {
	t.Helper()
	e, err := sub.Next(testContext(t))
	if err != nil {
		t.Fatalf("subscription next: %v", err)
	}
	return e
}
