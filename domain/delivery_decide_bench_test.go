package domain

import (
	"testing"
	"time"
)

// BenchmarkDecideFirstAttempt is the dispatcher's decision after a first
// attempt's response: the event that opens the delivery's stream, with
// the request headers the sender recorded (the ones every signed request
// carries) redacted and trimmed to what the attempt's facts do not give.
func BenchmarkDecideFirstAttempt(b *testing.B) {
	now := time.Date(2026, 12, 2, 1, 2, 3, 0, time.UTC)
	headers := map[string]string{
		"Content-Type": "application/json", "User-Agent": "webhookd/1", "Webhook-Id": "msg_1",
		"Webhook-Timestamp": "1796173323", "Webhook-Signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
		"X-Receiver-Token": "secret",
	}
	cmd := RecordAttempt{Outcome: AttemptOutcome{StatusCode: 200}, Latency: time.Millisecond, RequestHeaders: headers,
		Schedule: &ScheduleDelivery{DeliveryID: "dlv_1", MessageID: "msg_1", WebhookID: "wh_1", AccountID: "acc_1", EventType: "mail.delivered", DueAt: now}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecideDelivery(DeliveryState{}, cmd, now); err != nil {
			b.Fatal(err)
		}
	}
}
