package domain

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// TestBatchingDecide: given/when/then for the batching choice, which rides
// on the delivery settings event beside body format, retries and ordering.
func TestBatchingDecide(t *testing.T) {
	t1 := t0.Add(time.Hour)
	c := created(t)
	ten := Batching{MaxEvents: 10, MaxWaitMs: 500}
	set := func(f BodyFormat, o Ordering, b Batching, at time.Time) WebhookDeliverySettingsChanged {
		return WebhookDeliverySettingsChanged{WebhookID: "wh1", BodyFormat: f, Ordering: o, Batching: b, At: at}
	}
	createWith := func(f BodyFormat, b *Batching) CreateWebhook {
		x := validCreate(t)
		x.BodyFormat, x.Batching = f, b
		return x
	}
	createdAt := func(at time.Time) WebhookCreated { e := c; e.At = at; return e }
	perWebhook := Ordering{Mode: OrderingPerWebhook}
	tests := []struct {
		name      string
		given     []eventstore.Event
		when      WebhookCommand
		then      []eventstore.Event
		wantField string // "" for success
	}{
		{"CreateOffAddsNothing", nil, createWith("", &Batching{}), []eventstore.Event{createdAt(t1)}, ""},
		{"CreateBatched", nil, createWith("", &ten), []eventstore.Event{createdAt(t1), set("", Ordering{}, ten, t1)}, ""},
		{"CreateBatchedWithoutWait", nil, createWith(BodyFormatJSON, &Batching{MaxEvents: 100}),
			[]eventstore.Event{createdAt(t1), set("", Ordering{}, Batching{MaxEvents: 100}, t1)}, ""},
		{"UpdateBatchingKeepsRetry", []eventstore.Event{c, WebhookDeliverySettingsChanged{WebhookID: "wh1", Retry: RetrySettings{Schedule: RetryScheduleShort}, At: t0}},
			UpdateWebhook{Batching: &ten},
			[]eventstore.Event{WebhookDeliverySettingsChanged{WebhookID: "wh1", Retry: RetrySettings{Schedule: RetryScheduleShort}, Batching: ten, At: t1}}, ""},
		{"UpdateOff", []eventstore.Event{c, set("", Ordering{}, ten, t0)}, UpdateWebhook{Batching: &Batching{}},
			[]eventstore.Event{set("", Ordering{}, Batching{}, t1)}, ""},
		{"UpdateSameIsNoOp", []eventstore.Event{c, set("", Ordering{}, ten, t0)}, UpdateWebhook{Batching: &ten}, nil, ""},
		{"UpdateFormBackToJSONThenBatch", []eventstore.Event{c, set(BodyFormatForm, Ordering{}, Batching{}, t0)},
			UpdateWebhook{BodyFormat: ptr(BodyFormatJSON), Batching: &ten}, []eventstore.Event{set("", Ordering{}, ten, t1)}, ""},

		{"ErrCreateFormWithBatching", nil, createWith(BodyFormatForm, &ten), nil, "batching"},
		{"ErrBatchingOnFormWebhook", []eventstore.Event{c, set(BodyFormatForm, Ordering{}, Batching{}, t0)}, UpdateWebhook{Batching: &ten}, nil, "batching"},
		{"ErrFormOnBatchedWebhook", []eventstore.Event{c, set("", Ordering{}, ten, t0)}, UpdateWebhook{BodyFormat: ptr(BodyFormatForm)}, nil, "bodyFormat"},
		{"ErrBatchingOnOrderedWebhook", []eventstore.Event{c, set("", perWebhook, Batching{}, t0)}, UpdateWebhook{Batching: &ten}, nil, "batching"},
		{"ErrOrderingOnBatchedWebhook", []eventstore.Event{c, set("", Ordering{}, ten, t0)}, UpdateWebhook{Ordering: &perWebhook}, nil, "ordering"},
		{"ErrFormBesideUnchangedBatching", []eventstore.Event{c, set("", Ordering{}, ten, t0)}, UpdateWebhook{BodyFormat: ptr(BodyFormatForm), Batching: &ten}, nil, "bodyFormat"},
		{"ErrTooManyEvents", []eventstore.Event{c}, UpdateWebhook{Batching: &Batching{MaxEvents: 101}}, nil, "batching.maxEvents"},
		{"ErrNegativeEvents", []eventstore.Event{c}, UpdateWebhook{Batching: &Batching{MaxEvents: -1}}, nil, "batching.maxEvents"},
		{"ErrWaitTooLong", []eventstore.Event{c}, UpdateWebhook{Batching: &Batching{MaxEvents: 5, MaxWaitMs: 10_001}}, nil, "batching.maxWaitMs"},
		{"ErrWaitWithoutEvents", []eventstore.Event{c}, UpdateWebhook{Batching: &Batching{MaxWaitMs: 100}}, nil, "batching.maxWaitMs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecideWebhook(FoldWebhook(tt.given), tt.when, t1, nil)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
			} else {
				var e *Error
				if !errors.As(err, &e) || e.Code != EINVALID || e.Field != tt.wantField {
					t.Fatalf("error %#v, want EINVALID on %q", err, tt.wantField)
				}
			}
			if !reflect.DeepEqual(got, tt.then) {
				t.Errorf("got  %+v\nwant %+v", got, tt.then)
			}
		})
	}
}

// TestBatchingEvolve: the choice folds into the state and survives other
// updates; a stored event without it folds to off.
func TestBatchingEvolve(t *testing.T) {
	c := created(t)
	ten := Batching{MaxEvents: 10, MaxWaitMs: 250}
	s := FoldWebhook([]eventstore.Event{c,
		WebhookDeliverySettingsChanged{WebhookID: "wh1", Batching: ten, At: t0},
		WebhookUpdated{WebhookID: "wh1", Name: "N", EventTypes: c.EventTypes, At: t0},
	})
	if s.Batching != ten || !s.Batching.On() {
		t.Errorf("state %+v", s.Batching)
	}
	var old WebhookDeliverySettingsChanged
	if err := json.Unmarshal([]byte(`{"webhookId":"wh1","retry":{},"ordering":{"mode":"per_webhook"}}`), &old); err != nil {
		t.Fatal(err)
	}
	if s = evolveDeliverySettings(s, old); s.Batching.On() {
		t.Errorf("an event without batching left %+v", s.Batching)
	}
}

// TestBatchID: the same set of deliveries gives the same webhook-id in
// any order; another set, even one member more or less, another ID.
func TestBatchID(t *testing.T) {
	a := BatchID([]string{"d1", "d2", "d3"})
	if b := BatchID([]string{"d3", "d1", "d2"}); a != b {
		t.Errorf("order changed the ID: %s, %s", a, b)
	}
	for _, other := range [][]string{{"d1", "d2"}, {"d1", "d2", "d3", "d4"}, {"d1", "d2", "d4"}, {"d1\nd2", "d3"}} {
		if b := BatchID(other); b == a {
			t.Errorf("%v has the ID of d1,d2,d3", other)
		}
	}
	if len(a) != len("batch_")+32 {
		t.Errorf("ID %q", a)
	}
}

// TestRecordAttemptInBatch: a batch attempt is decided by the same
// function as a single one; it records the batch on the attempt and, for
// a retry, on the schedule, so the lane can keep the members together.
func TestRecordAttemptInBatch(t *testing.T) {
	s := FoldDelivery([]eventstore.Event{DeliveryScheduled{DeliveryID: "d1", MessageID: "m1", WebhookID: "wh1", AccountID: "a", MessageType: "email.open", ScheduledAt: t0, At: t0}})
	cmd := RecordAttempt{Outcome: AttemptOutcome{StatusCode: 500}, Rand: 0.5, BatchID: "batch_x", BatchSize: 3}
	got, err := DecideDelivery(s, cmd, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("decided %d events, want the attempt's one", len(got))
	}
	parts := DeliveryEventParts(got[0])
	att, ok := parts[0].(DeliveryAttempted)
	if !ok || att.BatchID != "batch_x" || att.BatchSize != 3 || att.Attempt != 1 {
		t.Errorf("attempt %+v", parts[0])
	}
	retry, ok := parts[1].(DeliveryRetryScheduled)
	if !ok || retry.BatchID != "batch_x" {
		t.Fatalf("then %+v", parts[1])
	}
	single := cmd
	single.BatchID, single.BatchSize = "", 0
	alone, _ := DecideDelivery(s, single, t0)
	if due := alone[0].(DeliveryAttemptRecorded).NextAttemptAt; due != retry.DueAt {
		t.Errorf("a batch member's retry is due at %v, a single one's at %v", retry.DueAt, due)
	}
}
