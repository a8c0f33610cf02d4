package projections_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/deliveries"
)

// TestAttemptEventReadsAsItsParts: a delivery recorded with one event per
// attempt (delivery.attempt_recorded) and the same delivery recorded as
// earlier versions did (scheduled, attempted, outcome) read the same in
// the deliveries read model and the stats, but for the stream revision.
func TestAttemptEventReadsAsItsParts(t *testing.T) {
	at := t0.Add(time.Minute)
	first := domain.RecordAttempt{
		Outcome: domain.AttemptOutcome{StatusCode: 503}, Latency: 7 * time.Millisecond, Rand: 0.5,
		RequestHeaders: map[string]string{"Content-Type": "application/json", "Webhook-Id": "msg_1", "Webhook-Timestamp": "1", "Authorization": "Bearer x"},
	}
	second := domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: 200}, Latency: 3 * time.Millisecond, Rand: 0.5,
		RequestHeaders: map[string]string{"Content-Type": "application/json", "Webhook-Id": "msg_1"}}
	schedule := func(id string) *domain.ScheduleDelivery {
		return &domain.ScheduleDelivery{DeliveryID: id, MessageID: "msg_1", WebhookID: "wh_a", AccountID: "acme", EventType: "email.bounce", DueAt: t0}
	}

	env := testenv.New(t)
	var last eventstore.Position
	appendEvents := func(id string, s domain.DeliveryState, events []eventstore.Event) domain.DeliveryState {
		t.Helper()
		res, err := env.Store.Append(context.Background(), domain.DeliveryStream(id), s.ExpectedRevision(), encodeEvents(t, env, events)...)
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
		for _, e := range events {
			s = domain.EvolveDelivery(s, e)
		}
		return s
	}
	decide := func(s domain.DeliveryState, cmd domain.DeliveryCommand, at time.Time) []eventstore.Event {
		t.Helper()
		events, err := domain.DecideDelivery(s, cmd, at)
		if err != nil {
			t.Fatal(err)
		}
		return events
	}

	// "new": one event per attempt, the first opening the stream.
	cmd := first
	cmd.Schedule = schedule("new")
	s := appendEvents("new", domain.DeliveryState{}, decide(domain.DeliveryState{}, cmd, at))
	appendEvents("new", s, decide(s, second, at.Add(5*time.Second)))

	// "old": the same decisions, stored as their parts.
	var old domain.DeliveryState
	cmd.Schedule = schedule("old")
	parts := func(events []eventstore.Event) []eventstore.Event {
		var out []eventstore.Event
		for _, e := range events {
			for _, p := range domain.DeliveryEventParts(e) {
				if a, ok := p.(domain.DeliveryAttempted); ok {
					a.RequestHeaders = domain.DerivedRequestHeaders(a.RequestHeaders, "msg_1", a, false)
					p = a
				}
				out = append(out, p)
			}
		}
		return out
	}
	old = appendEvents("old", old, parts(decide(old, cmd, at)))
	appendEvents("old", old, parts(decide(old, second, at.Add(5*time.Second))))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Runner.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	get := func(id string) deliveries.DeliveryView {
		v, ok, err := delivery(env, "acme", id)
		if err != nil || !ok {
			t.Fatalf("delivery %s: found=%v err=%v", id, ok, err)
		}
		return v
	}
	n, o := get("new"), get("old")
	if n.Revision != 1 || o.Revision != 4 {
		t.Errorf("revisions %d and %d, want 1 (two events) and 4 (five)", n.Revision, o.Revision)
	}
	if n.Status != domain.DeliveryStatusSucceeded || len(n.Attempts) != 2 || n.Attempts[0].RequestHeaders["Webhook-Id"] != "msg_1" {
		t.Fatalf("new delivery %+v", n)
	}
	if !reflect.DeepEqual(n.Attempts, o.Attempts) {
		t.Errorf("attempts differ:\n new %+v\n old %+v", n.Attempts, o.Attempts)
	}
	n.ID, n.Revision, n.CreatedPosition, n.DeliveryState.ID, n.DeliveryState.Version = "", 0, 0, "", 0
	o.ID, o.Revision, o.CreatedPosition, o.DeliveryState.ID, o.DeliveryState.Version = "", 0, 0, "", 0
	n.Attempts, o.Attempts = nil, nil
	if !reflect.DeepEqual(n, o) {
		t.Errorf("views differ:\n new %+v\n old %+v", n, o)
	}
	stats, err := deliveries.Stats(env.ReadDB, "acme", "wh_a", t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Attempts != 4 || stats.Succeeded != 2 {
		t.Errorf("stats %+v, want 4 attempts and 2 successes over both deliveries", stats)
	}
}
