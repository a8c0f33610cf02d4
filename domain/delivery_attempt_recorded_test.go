package domain_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

// TestFirstAttemptOpensTheStream: a first attempt of a delivery the stream
// does not hold yet is decided as one event carrying the scheduling, and
// folds to the state the three events an earlier version appended fold to.
func TestFirstAttemptOpensTheStream(t *testing.T) {
	at := dlvT0.Add(time.Second)
	cmd := attempt(200)
	cmd.Schedule = &domain.ScheduleDelivery{DeliveryID: "dlv_1", MessageID: "msg_1", WebhookID: "wh_1", AccountID: "acc_1", EventType: "invoice.paid", DueAt: dlvT0}
	got, err := domain.DecideDelivery(givenDelivery(), cmd, at)
	want := []eventstore.Event{
		domain.DeliveryScheduled{DeliveryID: "dlv_1", MessageID: "msg_1", WebhookID: "wh_1", AccountID: "acc_1", MessageType: "invoice.paid", ScheduledAt: dlvT0, At: at},
		domain.DeliveryAttempted{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 1, At: at, StatusCode: 200, LatencyMs: 42},
		domain.DeliverySucceeded{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 1, At: at},
	}
	r := thenAttempt(t, got, err, want...)
	if !r.OpensStream() {
		t.Fatal("the first attempt's event does not open the stream")
	}
	s := domain.FoldDelivery(got)
	old := domain.FoldDelivery(want)
	if s.Version != 1 || s.ExpectedRevision() != eventstore.Exact(0) {
		t.Fatalf("one event folded to version %d", s.Version)
	}
	old.Version = s.Version // the old stream held three events
	if s != old {
		t.Fatalf("state\n new %+v\n old %+v", s, old)
	}
	t.Run("IgnoredOnceScheduled", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), cmd, at)
		if r := thenAttempt(t, got, err, want[1:]...); r.OpensStream() {
			t.Fatal("an attempt on an existing stream carries scheduling")
		}
	})
	t.Run("ErrInvalidSchedule", func(t *testing.T) {
		bad := cmd
		bad.Schedule = &domain.ScheduleDelivery{DeliveryID: "dlv_1", MessageID: "msg_1", AccountID: "acc_1", EventType: "x.y"}
		got, err := domain.DecideDelivery(givenDelivery(), bad, at)
		thenRefused(t, got, err, domain.EINVALID)
	})
}

// TestAttemptLeavesDerivedHeadersOut: the attempt's event keeps only the
// request headers its facts do not determine, and DerivedRequestHeaders
// gives back exactly what was sent; a header whose value differs from the
// derived one is kept.
func TestAttemptLeavesDerivedHeadersOut(t *testing.T) {
	at := time.Unix(1775116801, 0).UTC()
	sent := map[string]string{
		"Content-Type": "application/json", "User-Agent": "webhookd/1", "Webhook-Signature": "v1,abc",
		"Webhook-Id": "msg_1", "Webhook-Timestamp": "1775116801", "Webhook-Test": "true", "X-Custom": "c",
	}
	s := givenDelivery(scheduled(true))
	cmd := attempt(200)
	cmd.RequestHeaders = sent
	got, err := domain.DecideDelivery(s, cmd, at)
	if err != nil {
		t.Fatal(err)
	}
	r := got[0].(domain.DeliveryAttemptRecorded)
	for _, k := range []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Test"} {
		if _, kept := r.RequestHeaders[k]; kept {
			t.Errorf("%s stored", k)
		}
	}
	if back := domain.DerivedRequestHeaders(r.RequestHeaders, "msg_1", r.Attempted(), true); !reflect.DeepEqual(back, sent) {
		t.Errorf("derived back %v\nsent %v", back, sent)
	}

	batch := attempt(200)
	batch.BatchID, batch.BatchSize = "batch_x", 3
	batch.RequestHeaders = map[string]string{"Webhook-Id": "batch_x", "Webhook-Batch-Size": "3", "Webhook-Timestamp": "1", "Content-Type": "application/json"}
	got, _ = domain.DecideDelivery(givenDelivery(scheduled(false)), batch, at)
	r = got[0].(domain.DeliveryAttemptRecorded)
	if want := map[string]string{"Webhook-Timestamp": "1", "Content-Type": "application/json"}; !reflect.DeepEqual(r.RequestHeaders, want) {
		t.Errorf("batch attempt stored %v, want %v (a timestamp other than the attempt's is kept)", r.RequestHeaders, want)
	}
	if back := domain.DerivedRequestHeaders(r.RequestHeaders, "msg_1", r.Attempted(), false); !reflect.DeepEqual(back, batch.RequestHeaders) {
		t.Errorf("batch derived back %v", back)
	}
	if h := domain.DerivedRequestHeaders(nil, "msg_1", r.Attempted(), false); h != nil {
		t.Errorf("an attempt that sent no request got headers %v", h)
	}
}
