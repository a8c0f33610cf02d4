package clustertest

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/gqltest"
)

// latencies collects how long deliveryUpdated took to arrive after the
// attempt it reports was made.
type latencies struct {
	mu sync.Mutex
	v  []arrival
}

// arrival is one ATTEMPT_RECORDED message: when it arrived, on which
// instance, the attempt's time, and the log position of its event.
type arrival struct {
	at, sent time.Time
	instance string
	pos      int64
}

func (a arrival) latency() time.Duration { return a.at.Sub(a.sent) }

func (l *latencies) values() []arrival {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]arrival(nil), l.v...)
}

// watchUpdates subscribes to deliveryUpdated for account 0 on the given
// instances and records, for each recorded attempt, when it was made and
// when it arrived. Two thirds of the attempts are made by another
// instance than the one reporting them.
func watchUpdates(t *testing.T, ins []*instance, key string) *latencies {
	out := &latencies{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, in := range ins {
		conn, err := gqltest.Dial(ctx, in.base()+"/graphql", map[string]any{"Authorization": "Bearer " + key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		if err := conn.Subscribe(ctx, "1", `subscription { deliveryUpdated { change changePosition attempts { at } } }`, nil); err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				m, err := conn.Next(ctx)
				if err != nil {
					return
				}
				if a, ok := parseArrival(m.Type, m.Payload, time.Now()); ok {
					a.instance = in.name
					out.mu.Lock()
					out.v = append(out.v, a)
					out.mu.Unlock()
				}
			}
		}()
	}
	return out
}

func parseArrival(typ string, payload []byte, now time.Time) (arrival, bool) {
	if typ != "next" {
		return arrival{}, false
	}
	var p struct {
		Data struct {
			DeliveryUpdated struct {
				Change         string `json:"change"`
				ChangePosition string `json:"changePosition"`
				Attempts       []struct {
					At time.Time `json:"at"`
				} `json:"attempts"`
			} `json:"deliveryUpdated"`
		} `json:"data"`
	}
	if json.Unmarshal(payload, &p) != nil || p.Data.DeliveryUpdated.Change != "ATTEMPT_RECORDED" {
		return arrival{}, false
	}
	u := p.Data.DeliveryUpdated
	if len(u.Attempts) == 0 {
		return arrival{}, false
	}
	pos, _ := strconv.ParseInt(u.ChangePosition, 10, 64)
	return arrival{at: now, sent: u.Attempts[len(u.Attempts)-1].At, pos: pos}, true
}

// checkLatency reports deliveryUpdated's latency outside the fault windows
// (a stopped or cut-off instance can deliver nothing), split at the
// moment the attempt's append began (the event's created time): before
// it, the POST and the dispatcher; after it, the append, the read below
// the horizon, the projection and the subscription.
func checkLatency(t *testing.T, in checkInput) {
	var ok []arrival
	for _, a := range in.latencies {
		_, f1 := inWindow(in.faults, a.sent)
		_, f2 := inWindow(in.faults, a.at)
		if !f1 && !f2 {
			ok = append(ok, a)
		}
	}
	if len(ok) == 0 {
		t.Error("no deliveryUpdated message arrived")
		return
	}
	created := eventTimes(t, in.dbURL, ok)
	var total, before, after []time.Duration
	for _, a := range ok {
		total = append(total, a.latency())
		if c, found := created[a.pos]; found {
			before, after = append(before, c.Sub(a.sent)), append(after, a.at.Sub(c))
		}
	}
	p50, p99 := quantiles(total)
	t.Logf("deliveryUpdated after the attempt was made, over %d messages on w2 and w3 outside the fault windows: p50 %s, p99 %s", len(total), p50, p99)
	b50, b99 := quantiles(before)
	a50, a99 := quantiles(after)
	t.Logf("  of which attempt made -> its append began: p50 %s, p99 %s; append began -> arrival: p50 %s, p99 %s", b50, b99, a50, a99)
	t.Logf("  target p99 %s: met = %v (observers' worst projection lag %s)",
		latencyTarget, p99 <= latencyTarget, in.observerLag.Round(time.Millisecond))
	bound := latencyBound
	if os.Getenv("WEBHOOKD_CLUSTER_STRICT_LATENCY") == "1" {
		bound = latencyTarget
	}
	if p99 > bound {
		t.Errorf("deliveryUpdated p99 %s, want within %s", p99, bound)
	}
}

// latencyTarget is the spec's p99 for a deliveryUpdated from another
// instance; the test reports whether the run met it. It is a speed, so
// the test does not assert it by default: three instances, PostgreSQL,
// the load and the receiver share two cores, and on a shared host the
// p99 of six runs moved between 0.74 and 2.33 s, before and after one
// change that did not touch this path (docs/architecture.md, Scale-out). WEBHOOKD_CLUSTER_STRICT_LATENCY=1
// asserts it, for a quiet machine (there a run measured 83 ms).
const latencyTarget = time.Second

// latencyBound is what the test asserts: an order of magnitude above the
// target, and below what a read-path fault gives. A page query that fell
// back to a sequential scan once made the p99 20-46 s; starvation alone
// has not taken it past 2.4 s.
const latencyBound = 10 * time.Second

func quantiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}

// eventTimes reads the created time of the events at the arrivals'
// positions.
func eventTimes(t *testing.T, dbURL string, as []arrival) map[int64]time.Time {
	c := connectDirect(t, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer c.Close(context.Background())
	pos := make([]int64, len(as))
	for i, a := range as {
		pos[i] = a.pos
	}
	rows, err := c.Query(ctx, `SELECT pos, created FROM webhookd_events WHERE pos = ANY($1)`, pos)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]time.Time{}
	for rows.Next() {
		var p int64
		var at time.Time
		if err := rows.Scan(&p, &at); err != nil {
			t.Fatal(err)
		}
		out[p] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
