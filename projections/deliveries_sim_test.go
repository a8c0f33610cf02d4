package projections_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/projections/deliveries"
	"github.com/webhookd/webhookd/projections/readmodels"
)

// deliverySim drives delivery aggregates the way the dispatcher does:
// decide on the folded state, append with the expected revision, fold the
// result. Its clock only moves when a test moves it.
type deliverySim struct {
	t      testing.TB
	env    *testenv.Env
	now    time.Time
	states map[string]domain.DeliveryState
	last   eventstore.Position
}

func newDeliverySim(t testing.TB, env *testenv.Env, start time.Time) *deliverySim {
	return &deliverySim{t: t, env: env, now: start, states: map[string]domain.DeliveryState{}}
}

// do decides cmd on delivery id and appends the events, without waiting
// for the projections; call sync before reading the read model.
func (s *deliverySim) do(id string, cmd domain.DeliveryCommand) {
	s.t.Helper()
	state := s.states[id]
	events, err := domain.DecideDelivery(state, cmd, s.now)
	if err != nil {
		s.t.Fatalf("decide %T on %s: %v", cmd, id, err)
	}
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		if data[i], err = s.env.Codec.Encode(e); err != nil {
			s.t.Fatal(err)
		}
	}
	res, err := s.env.Store.Append(context.Background(), domain.DeliveryStream(id), state.ExpectedRevision(), data...)
	if err != nil {
		s.t.Fatalf("append to %s: %v", id, err)
	}
	for _, e := range events {
		state = domain.EvolveDelivery(state, e)
	}
	s.states[id], s.last = state, res.Position
}

// schedule creates delivery id of a fresh message to webhook wh.
func (s *deliverySim) schedule(id, account, wh string, test bool) {
	s.t.Helper()
	s.do(id, domain.ScheduleDelivery{DeliveryID: id, MessageID: "msg_" + id, WebhookID: wh, AccountID: account, EventType: "email.bounce", Test: test})
}

// attempt records an attempt answered with status (0 with errClass for no
// response) after latency.
func (s *deliverySim) attempt(id string, status int, errClass string, latency time.Duration) {
	s.t.Helper()
	s.do(id, domain.RecordAttempt{
		Outcome: domain.AttemptOutcome{StatusCode: status, ErrClass: errClass}, Latency: latency,
		ResponseExcerpt: []byte(fmt.Sprintf("answer %d", status)),
		RequestHeaders:  map[string]string{"webhook-id": "msg_" + id, "Authorization": "Bearer s3cret"},
		Rand:            0.5,
	})
}

// sync waits until the projections have applied everything appended.
func (s *deliverySim) sync() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.env.Runner.WaitFor(ctx, s.last); err != nil {
		s.t.Fatal(err)
	}
}

// readModel is the read model as the application reads it, attempt logs
// read from the store.
func readModel(env *testenv.Env) readmodels.Bolt {
	return readmodels.Bolt{DB: env.ReadDB, Log: env.Store, Codec: env.Codec}
}

// delivery reads a delivery as the application shows it: its summary and
// its attempt log.
func delivery(env *testenv.Env, account, id string) (deliveries.DeliveryView, bool, error) {
	rm := readModel(env)
	v, ok, err := rm.Delivery(account, id)
	if err != nil || !ok {
		return v, ok, err
	}
	v.Attempts, err = rm.AttemptLog(v)
	return v, true, err
}
