package domain

import (
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// TestTraceparentSetting: the traceparent header is a delivery setting,
// turned on at create or by an update, kept by updates that leave it
// alone, and turned off again; choosing what is already set adds nothing.
func TestTraceparentSetting(t *testing.T) {
	t1 := t0.Add(time.Hour)
	c := created(t)
	on, off := true, false
	set := func(tp bool) WebhookDeliverySettingsChanged {
		return WebhookDeliverySettingsChanged{WebhookID: "wh1", Traceparent: tp, At: t1}
	}
	create := validCreate(t)
	create.SendTraceparent = true
	createdAt := c
	createdAt.At = t1
	tests := []struct {
		name  string
		given []eventstore.Event
		when  WebhookCommand
		then  []eventstore.Event
	}{
		{"CreateOn", nil, create, []eventstore.Event{createdAt, set(true)}},
		{"UpdateOn", []eventstore.Event{c}, UpdateWebhook{SendTraceparent: &on}, []eventstore.Event{set(true)}},
		{"UpdateOff", []eventstore.Event{c, set(true)}, UpdateWebhook{SendTraceparent: &off}, []eventstore.Event{set(false)}},
		{"UpdateSameIsNoOp", []eventstore.Event{c, set(true)}, UpdateWebhook{SendTraceparent: &on}, nil},
		{"OtherSettingKeepsIt", []eventstore.Event{c, set(true)}, UpdateWebhook{Retry: &RetrySettings{Schedule: RetryScheduleShort}},
			[]eventstore.Event{WebhookDeliverySettingsChanged{WebhookID: "wh1", Traceparent: true, Retry: RetrySettings{Schedule: RetryScheduleShort}, At: t1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecideWebhook(FoldWebhook(tt.given), tt.when, t1, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.then) {
				t.Errorf("got  %+v\nwant %+v", got, tt.then)
			}
		})
	}
	if s := FoldWebhook([]eventstore.Event{c, set(true)}); !s.SendTraceparent {
		t.Error("the setting does not fold into the state")
	}
}

// TestEventsFromBeforeTracing: message.published and delivery-settings
// events written before tracing existed decode with no traceparent and
// the header off.
func TestEventsFromBeforeTracing(t *testing.T) {
	codec := eventstore.NewCodec()
	RegisterEvents(codec)
	msg, err := codec.Decode(eventstore.RecordedEvent{Type: MessagePublished{}.EventType(),
		Data: []byte(`{"messageId":"m1","accountId":"acme","type":"email.open","data":{},"publishedAt":"2026-01-01T00:00:00Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if tp := msg.(MessagePublished).Traceparent; tp != "" {
		t.Errorf("old message decodes with traceparent %q", tp)
	}
	settings, err := codec.Decode(eventstore.RecordedEvent{Type: WebhookDeliverySettingsChanged{}.EventType(),
		Data: []byte(`{"webhookId":"wh1","bodyFormat":"form","retry":{},"at":"2026-01-01T00:00:00Z"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if settings.(WebhookDeliverySettingsChanged).Traceparent {
		t.Error("old delivery settings decode with the traceparent header on")
	}
}
