package domain_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

func TestDeliveryIDForSortsByTime(t *testing.T) {
	earlier := uuid.Must(uuid.NewV7())
	time.Sleep(2 * time.Millisecond) // a later millisecond
	later := uuid.Must(uuid.NewV7())
	a, b := domain.DeliveryIDFor(earlier.String(), "wh_z"), domain.DeliveryIDFor(later.String(), "wh_a")
	if !(a < b) {
		t.Fatalf("delivery of an earlier message sorts after a later one: %s >= %s", a, b)
	}
	if a == domain.DeliveryIDFor(earlier.String(), "wh_y") {
		t.Fatal("two webhooks got one delivery ID")
	}
}

func TestDeliveryIDFor(t *testing.T) {
	a := domain.DeliveryIDFor("msg_1", "wh_1")
	if a != domain.DeliveryIDFor("msg_1", "wh_1") {
		t.Fatal("not deterministic")
	}
	for _, other := range []string{domain.DeliveryIDFor("msg_1", "wh_2"), domain.DeliveryIDFor("msg_1w", "h_1"), domain.DeliveryIDFor("msg_2", "wh_1")} {
		if other == a {
			t.Fatalf("collision: %s", a)
		}
	}
	if !strings.HasPrefix(a, "dlv_") || len(a) != 4+26 || strings.ContainsAny(a, "-/+=") {
		t.Fatalf("id %q", a)
	}
}

func TestStreamNames(t *testing.T) {
	if id, ok := domain.DeliveryIDFromStream(domain.DeliveryStream("dlv_x")); !ok || id != "dlv_x" {
		t.Errorf("delivery stream round trip: %q %v", id, ok)
	}
	if id, ok := domain.MessageIDFromStream(domain.MessageStream("msg_x")); !ok || id != "msg_x" {
		t.Errorf("message stream round trip: %q %v", id, ok)
	}
	if _, ok := domain.DeliveryIDFromStream(domain.MessageStream("msg_x")); ok {
		t.Error("message stream read as delivery stream")
	}
	if eventstore.Category(domain.DeliveryStream("a-b")) != domain.DeliveryStreamCategory {
		t.Error("category")
	}
}

func TestDeliveryCodecRoundTrip(t *testing.T) {
	c := eventstore.NewCodec()
	domain.RegisterDeliveryEvents(c)
	at := time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)
	events := []eventstore.Event{
		domain.MessagePublished{MessageID: "msg_1", AccountID: "acc_1", Type: "invoice.paid",
			Data: json.RawMessage(`{"amount":12.5,"who":"Zoë"}`), IdempotencyKey: "k1", PublishedAt: at},
		domain.DeliveryScheduled{DeliveryID: "dlv_1", MessageID: "msg_1", WebhookID: "wh_1", AccountID: "acc_1",
			MessageType: "invoice.paid", Test: true, ScheduledAt: at, At: at},
		domain.DeliveryAttempted{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 1, At: at, StatusCode: 503, LatencyMs: 12,
			ErrorMessage: "e", ResponseExcerpt: "busy", RequestHeaders: map[string]string{"Content-Type": "application/json"}},
		domain.DeliveryRetryScheduled{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 2, DueAt: at.Add(time.Minute), SlowDown: true, At: at},
		domain.DeliverySucceeded{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 2, At: at},
		domain.DeliveryFailed{DeliveryID: "dlv_1", WebhookID: "wh_1", Reason: "HTTP 410", Attempts: 3, DisablesWebhook: true, At: at},
		domain.DeliveryRedeliveryRequested{DeliveryID: "dlv_1", WebhookID: "wh_1", DueAt: at, At: at},
	}
	for i, e := range events {
		t.Run(e.EventType(), func(t *testing.T) {
			if !strings.HasSuffix(e.EventType(), ".v1") || !c.Known(e.EventType()) {
				t.Fatalf("type %q not registered as a versioned name", e.EventType())
			}
			data, err := c.Encode(e)
			if err != nil {
				t.Fatal(err)
			}
			back, err := c.Decode(eventstore.RecordedEvent{Type: data.Type, Data: data.Data, Position: eventstore.Position(i)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, e) {
				t.Fatalf("round trip:\n got  %#v\n want %#v", back, e)
			}
		})
	}
}

// TestDeliveryBodyTestFlag: test sends say so in the body; real events'
// bodies are unchanged.
func TestDeliveryBodyTestFlag(t *testing.T) {
	m := domain.MessagePublished{MessageID: "m1", AccountID: "acc", Type: "email.bounce", Data: json.RawMessage(`{}`)}
	real, err := m.DeliveryBody()
	if err != nil || strings.Contains(string(real), `"test"`) {
		t.Fatalf("real body = %s, %v", real, err)
	}
	m.TestWebhookID = "wh1"
	test, err := m.DeliveryBody()
	if err != nil || !strings.HasSuffix(string(test), `,"test":true}`) {
		t.Fatalf("test body = %s, %v", test, err)
	}
}
