package bench

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// applied is when the read models reached a position.
type applied struct {
	pos eventstore.Position
	at  time.Time
}

// followApplied samples the read models' checkpoint every 100 µs until
// stop closes, and then sends the moments it advanced.
func followApplied(r *rig, stop <-chan struct{}) <-chan []applied {
	out := make(chan []applied, 1)
	go func() {
		var seen []applied
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				out <- seen
				return
			case at := <-t.C:
				if p := r.env.Runner.Position(); len(seen) == 0 || p > seen[len(seen)-1].pos {
					seen = append(seen, applied{pos: p, at: at})
				}
			}
		}
	}()
	return out
}

// stage is one part of publish-to-receive latency, sorted.
type stage struct {
	name string
	lat  []time.Duration
}

func (s stage) q(p float64) time.Duration {
	if len(s.lat) == 0 {
		return 0
	}
	return s.lat[min(int(p*float64(len(s.lat))), len(s.lat)-1)]
}

// breakdown splits each message's latency into the Publish call, ack to
// committed in the read models, and committed to the POST received.
func breakdown(tb testing.TB, r *rig, from eventstore.Position, seen []applied, started, acked map[string]time.Time, recvs []*receiver) []stage {
	tb.Helper()
	positions := map[string]eventstore.Position{}
	for after := from; ; {
		recs, err := r.env.Store.ReadAll(context.Background(), after, 10_000)
		if err != nil {
			tb.Fatal(err)
		}
		for _, rec := range recs {
			if id, ok := domain.MessageIDFromStream(rec.Stream); ok {
				positions[id] = rec.Position
			}
			after = rec.Position
		}
		if len(recs) < 10_000 {
			break
		}
	}
	call, commit, dispatch := stage{name: "publish"}, stage{name: "ack-committed"}, stage{name: "committed-received"}
	for _, recv := range recvs {
		for id, got := range recv.arrivals() {
			pos, ok := positions[id]
			i := sort.Search(len(seen), func(i int) bool { return seen[i].pos >= pos })
			if !ok || i == len(seen) {
				continue
			}
			committed := seen[i].at
			call.lat = append(call.lat, acked[id].Sub(started[id]))
			commit.lat = append(commit.lat, max(committed.Sub(acked[id]), 0))
			dispatch.lat = append(dispatch.lat, max(got.Sub(committed), 0))
		}
	}
	for _, s := range []*stage{&call, &commit, &dispatch} {
		slices.Sort(s.lat)
	}
	return []stage{call, commit, dispatch}
}
