package metrics_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/eventstore/bolt"
	"github.com/webhookd/webhookd/metrics"
)

// TestProjectionLag appends three events to a real store and moves a
// projection's position over them: the gauges count the events not yet
// applied and the age of the oldest, and read 0 once caught up.
func TestProjectionLag(t *testing.T) {
	store, err := bolt.Open(filepath.Join(t.TempDir(), "events.db"), bolt.Options{NoSync: true, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	for i := range 3 {
		ev := eventstore.EventData{ID: uuid.NewString(), Type: "test.happened.v1", Data: []byte(`{}`)}
		if _, err := store.Append(ctx, "test-"+string(rune('a'+i)), eventstore.Any, ev); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := store.ReadAll(ctx, eventstore.Start, 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("read back %d events: %v", len(recs), err)
	}
	var pos eventstore.Position
	now := recs[0].Time.Add(90 * time.Second)
	reg := prometheus.NewRegistry()
	reg.MustRegister(&metrics.ProjectionLag{Name: "readmodel", Position: func() eventstore.Position { return pos }, Store: store, Now: func() time.Time { return now }})
	expect := func(events int, seconds float64) {
		t.Helper()
		want := `
# HELP webhookd_projection_lag_events Events in the log that the projection has not applied yet (counted up to 10000).
# TYPE webhookd_projection_lag_events gauge
webhookd_projection_lag_events{projection="readmodel"} ` + itoa(events) + `
# HELP webhookd_projection_lag_seconds Age of the oldest event in the log that the projection has not applied yet; 0 when caught up.
# TYPE webhookd_projection_lag_seconds gauge
webhookd_projection_lag_seconds{projection="readmodel"} ` + ftoa(seconds) + `
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
			t.Fatal(err)
		}
	}
	expect(3, 90)
	pos = recs[0].Position
	expect(2, now.Sub(recs[1].Time).Seconds())
	pos = recs[2].Position
	expect(0, 0)
}

func itoa(n int) string { return strconv.Itoa(n) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
