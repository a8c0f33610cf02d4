package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
)

// A batch append answers each stream's append on its own, as Append
// would: the good ones are durable, a lost race and a bad event are
// refused alone, and the results are in the order of the batch.
func TestAppendBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	s := mustOpen(t, path, bolt.Options{NoSync: true})
	ctx := context.Background()
	ev := func() eventstore.EventData {
		return eventstore.EventData{ID: uuid.NewString(), Type: "test.happened.v1", Data: []byte(`{}`)}
	}
	if _, err := s.Append(ctx, "taken", eventstore.NoStream, ev()); err != nil {
		t.Fatal(err)
	}
	var batch []eventstore.StreamAppend
	for i := range 1500 { // more than one group commit holds
		batch = append(batch, eventstore.StreamAppend{Stream: fmt.Sprintf("s-%d", i), Expected: eventstore.NoStream, Events: []eventstore.EventData{ev()}})
	}
	batch[7] = eventstore.StreamAppend{Stream: "taken", Expected: eventstore.NoStream, Events: []eventstore.EventData{ev()}}
	batch[9].Events[0].Type = "" // invalid
	res := s.AppendBatch(ctx, batch)
	if len(res) != len(batch) {
		t.Fatalf("%d results for %d appends", len(res), len(batch))
	}
	if !eventstore.IsWrongExpectedVersion(res[7].Err) {
		t.Fatalf("append to an existing stream at NoStream: %v, want a wrong expected version", res[7].Err)
	}
	if !errors.Is(res[9].Err, eventstore.ErrInvalidEvent) {
		t.Fatalf("append of an untyped event: %v, want ErrInvalidEvent", res[9].Err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, path, bolt.Options{NoSync: true})
	for i, r := range res {
		if i == 7 || i == 9 {
			continue
		}
		if r.Err != nil {
			t.Fatalf("append %d: %v", i, r.Err)
		}
		recs, err := s.ReadStream(ctx, batch[i].Stream, 0, 10)
		if err != nil || len(recs) != 1 || recs[0].ID != batch[i].Events[0].ID || recs[0].Position != r.Result.Position {
			t.Fatalf("stream %s after reopening: %v %+v, want its one event at %d", batch[i].Stream, err, recs, r.Result.Position)
		}
	}
	if _, err := s.ReadStream(ctx, "s-9", 0, 10); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("refused append's stream: %v, want not found", err)
	}
}
