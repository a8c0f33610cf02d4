package esdb

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
)

// TestServerAssumptions checks, against a real server, what the adapter
// assumes beyond the shared conformance suite (see docs/architecture.md,
// "EventStoreDB: what only a server settles"). It runs with the suite, when
// WEBHOOKD_TEST_ESDB_URL is set (.ci/esdb.yml).
func TestServerAssumptions(t *testing.T) {
	url := os.Getenv("WEBHOOKD_TEST_ESDB_URL")
	if url == "" {
		t.Skip("EventStoreDB server assumptions: set WEBHOOKD_TEST_ESDB_URL=esdb://127.0.0.1:2113?tls=false to check them")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	newEvents := func(n int) []eventstore.EventData {
		out := make([]eventstore.EventData, n)
		for i := range out {
			out[i] = eventstore.EventData{ID: uuid.NewString(), Type: "esdbcheck.e.v1", Data: []byte(`{}`)}
		}
		return out
	}

	t.Run("MultiEventAppendPositions", func(t *testing.T) {
		stream := "esdbcheck-" + uuid.NewString()
		res, err := s.Append(ctx, stream, eventstore.NoStream, newEvents(3)...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadStream(ctx, stream, 0, 0)
		if err != nil || len(got) != 3 {
			t.Fatalf("read %d events, %v; want 3", len(got), err)
		}
		for i := 1; i < 3; i++ {
			if got[i].Position <= got[i-1].Position {
				t.Fatalf("events of one append share or reverse positions: %d then %d", got[i-1].Position, got[i].Position)
			}
		}
		if res.Position != got[2].Position {
			t.Fatalf("append reported position %d, its last event is at %d", res.Position, got[2].Position)
		}
		// "After the first event" must still yield the other two.
		all, err := s.ReadAll(ctx, got[0].Position, 0)
		if err != nil {
			t.Fatal(err)
		}
		var mine []uint64
		for _, e := range all {
			if e.Stream == stream {
				mine = append(mine, e.Revision)
			}
		}
		if len(mine) != 2 || mine[0] != 1 || mine[1] != 2 {
			t.Fatalf("ReadAll after event 0 gave revisions %v of the append, want [1 2]", mine)
		}
	})

	t.Run("ExactResendIsIdempotent", func(t *testing.T) {
		stream := "esdbcheck-" + uuid.NewString()
		if _, err := s.Append(ctx, stream, eventstore.NoStream, newEvents(1)...); err != nil {
			t.Fatal(err)
		}
		evs := newEvents(2)
		first, err := s.Append(ctx, stream, eventstore.Exact(0), evs...)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Append(ctx, stream, eventstore.Exact(0), evs...) // the resend after a lost reply
		if err != nil || again != first {
			t.Fatalf("resend = %+v, %v; want the original %+v", again, err, first)
		}
		if got, err := s.ReadStream(ctx, stream, 0, 0); err != nil || len(got) != 3 {
			t.Fatalf("stream has %d events, %v; want 3", len(got), err)
		}
	})

	t.Run("MaxAgeReachesNewStreams", func(t *testing.T) {
		category := "esdbcheck" + uuid.NewString()[:8]
		if err := s.SetMaxAge(ctx, category, time.Hour); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.SetMaxAge(context.Background(), category, 0) })
		stream := category + "-1"
		if _, err := s.Append(ctx, stream, eventstore.NoStream, newEvents(1)...); err != nil {
			t.Fatal(err)
		}
		meta, err := s.client.GetStreamMetadata(ctx, stream, esdb.ReadStreamOptions{})
		if err != nil || meta.MaxAge() == nil || *meta.MaxAge() != time.Hour {
			t.Fatalf("new stream's metadata %+v, %v; want $maxAge 1h", meta, err)
		}
	})
}
