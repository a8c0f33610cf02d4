package domain

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// TestOrderingDecide: given/when/then for the ordering choice, which rides
// on the delivery settings event beside body format and retry policy.
func TestOrderingDecide(t *testing.T) {
	t1 := t0.Add(time.Hour)
	c := created(t)
	perKey := Ordering{Mode: OrderingPerKey, Key: "data.recipient"}
	perWebhook := Ordering{Mode: OrderingPerWebhook}
	set := func(f BodyFormat, o Ordering, at time.Time) WebhookDeliverySettingsChanged {
		return WebhookDeliverySettingsChanged{WebhookID: "wh1", BodyFormat: f, Ordering: o, At: at}
	}
	createWith := func(o *Ordering) CreateWebhook {
		x := validCreate(t)
		x.Ordering = o
		return x
	}
	createdAt := func(at time.Time) WebhookCreated { e := c; e.At = at; return e }
	tests := []struct {
		name     string
		given    []eventstore.Event
		when     WebhookCommand
		then     []eventstore.Event
		wantCode string
	}{
		{"CreateNoneAddsNothing", nil, createWith(&Ordering{Mode: OrderingNone}), []eventstore.Event{createdAt(t1)}, ""},
		{"CreatePerKey", nil, createWith(&perKey), []eventstore.Event{createdAt(t1), set("", perKey, t1)}, ""},
		{"UpdateOrderingKeepsFormat", []eventstore.Event{c, set(BodyFormatForm, Ordering{}, t0)}, UpdateWebhook{Ordering: &perWebhook},
			[]eventstore.Event{set(BodyFormatForm, perWebhook, t1)}, ""},
		{"UpdateFormatKeepsOrdering", []eventstore.Event{c, set("", perKey, t0)}, UpdateWebhook{BodyFormat: ptr(BodyFormatForm)},
			[]eventstore.Event{set(BodyFormatForm, perKey, t1)}, ""},
		{"UpdateBackToNone", []eventstore.Event{c, set("", perKey, t0)}, UpdateWebhook{Ordering: &Ordering{Mode: OrderingNone}},
			[]eventstore.Event{set("", Ordering{}, t1)}, ""},
		{"UpdateSameIsNoOp", []eventstore.Event{c, set("", perKey, t0)}, UpdateWebhook{Ordering: &perKey}, nil, ""},
		{"ErrPerKeyWithoutKey", nil, createWith(&Ordering{Mode: OrderingPerKey}), nil, EINVALID},
		{"ErrKeyOutsideData", []eventstore.Event{c}, UpdateWebhook{Ordering: &Ordering{Mode: OrderingPerKey, Key: "recipient"}}, nil, EINVALID},
		{"ErrKeyWithoutPerKey", []eventstore.Event{c}, UpdateWebhook{Ordering: &Ordering{Mode: OrderingPerWebhook, Key: "data.x"}}, nil, EINVALID},
		{"ErrUnknownMode", []eventstore.Event{c}, UpdateWebhook{Ordering: &Ordering{Mode: "fifo"}}, nil, EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecideWebhook(FoldWebhook(tt.given), tt.when, t1, nil)
			if code := ErrorCode(err); code != tt.wantCode {
				t.Fatalf("error %v, want code %q", err, tt.wantCode)
			}
			if !reflect.DeepEqual(got, tt.then) {
				t.Errorf("got  %+v\nwant %+v", got, tt.then)
			}
		})
	}
}

// TestOrderingEvolve: the choice folds into the state and survives other
// updates; a stored event without it folds to no ordering.
func TestOrderingEvolve(t *testing.T) {
	c := created(t)
	perKey := Ordering{Mode: OrderingPerKey, Key: "data.recipient"}
	s := FoldWebhook([]eventstore.Event{c,
		WebhookDeliverySettingsChanged{WebhookID: "wh1", Ordering: perKey, At: t0},
		WebhookUpdated{WebhookID: "wh1", Name: "N", EventTypes: c.EventTypes, At: t0},
	})
	if s.Ordering != perKey || !s.Ordering.Ordered() {
		t.Errorf("state %+v", s.Ordering)
	}
	var old WebhookDeliverySettingsChanged
	if err := json.Unmarshal([]byte(`{"webhookId":"wh1","bodyFormat":"form","retry":{}}`), &old); err != nil {
		t.Fatal(err)
	}
	if s = evolveDeliverySettings(s, old); s.Ordering != (Ordering{}) || s.Ordering.Ordered() {
		t.Errorf("an event without ordering left %+v", s.Ordering)
	}
}

// TestOrderingKeyOf: the line of a message is the value at the key path.
func TestOrderingKeyOf(t *testing.T) {
	data := json.RawMessage(`{"recipient":"a@example.com","n":7,"nested":{"id":{"x":1}},"nil":null}`)
	tests := []struct {
		o    Ordering
		want string
	}{
		{Ordering{Mode: OrderingPerKey, Key: "data.recipient"}, "a@example.com"},
		{Ordering{Mode: OrderingPerKey, Key: "data.n"}, "7"},
		{Ordering{Mode: OrderingPerKey, Key: "data.nested.id"}, `{"x":1}`},
		{Ordering{Mode: OrderingPerKey, Key: "data.nil"}, ""},
		{Ordering{Mode: OrderingPerKey, Key: "data.missing.deeper"}, ""},
		{Ordering{Mode: OrderingPerWebhook}, ""},
	}
	for _, tt := range tests {
		if got := tt.o.KeyOf(data); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.o, got, tt.want)
		}
	}
}
