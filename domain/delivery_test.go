package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

var dlvT0 = time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC)

func scheduled(test bool) domain.DeliveryScheduled {
	return domain.DeliveryScheduled{
		DeliveryID: "dlv_1", MessageID: "msg_1", WebhookID: "wh_1", AccountID: "acc_1",
		MessageType: "invoice.paid", Test: test, ScheduledAt: dlvT0, At: dlvT0,
	}
}

func givenDelivery(events ...eventstore.Event) domain.DeliveryState {
	var s domain.DeliveryState
	for _, e := range events {
		s = domain.EvolveDelivery(s, e)
	}
	return s
}

// thenEvents asserts a decision produced exactly want.
func thenEvents(t *testing.T, got []eventstore.Event, err error, want ...eventstore.Event) {
	t.Helper()
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got  %#v\n want %#v", got, want)
	}
}

// thenAttempt asserts a decision recorded one attempt, in one
// DeliveryAttemptRecorded event whose parts are want: the events an
// earlier version appended for it.
func thenAttempt(t *testing.T, got []eventstore.Event, err error, want ...eventstore.Event) domain.DeliveryAttemptRecorded {
	t.Helper()
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("decided %d events, want one: %#v", len(got), got)
	}
	r, ok := got[0].(domain.DeliveryAttemptRecorded)
	if !ok {
		t.Fatalf("decided %T, want DeliveryAttemptRecorded", got[0])
	}
	if parts := r.Parts(); !reflect.DeepEqual(parts, want) {
		t.Fatalf("parts:\n got  %#v\n want %#v", parts, want)
	}
	return r
}

// thenRefused asserts a decision was refused with code.
func thenRefused(t *testing.T, got []eventstore.Event, err error, code string) {
	t.Helper()
	if domain.ErrorCode(err) != code || got != nil {
		t.Fatalf("got %v, %v; want a %s refusal", got, err, code)
	}
}

func attempt(code int) domain.RecordAttempt {
	return domain.RecordAttempt{Outcome: domain.AttemptOutcome{StatusCode: code}, Latency: 42 * time.Millisecond, Rand: 0.5}
}

func TestDeliverySchedule(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		cmd := domain.ScheduleDelivery{DeliveryID: "dlv_1", MessageID: "msg_1", WebhookID: "wh_1", AccountID: "acc_1", EventType: "invoice.paid"}
		got, err := domain.DecideDelivery(givenDelivery(), cmd, dlvT0)
		thenEvents(t, got, err, scheduled(false))
		s := givenDelivery(got...)
		if s.Status != domain.DeliveryStatusPending || !s.NextAttemptAt.Equal(dlvT0) || s.EventType != "invoice.paid" {
			t.Fatalf("state %+v", s)
		}
		if s.ExpectedRevision() != eventstore.Exact(0) {
			t.Fatalf("expected revision %v", s.ExpectedRevision())
		}
	})
	t.Run("ErrAlreadyExists", func(t *testing.T) {
		cmd := domain.ScheduleDelivery{DeliveryID: "dlv_1", MessageID: "msg_1", WebhookID: "wh_1", AccountID: "acc_1", EventType: "x.y"}
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), cmd, dlvT0)
		thenRefused(t, got, err, domain.ECONFLICT)
	})
	t.Run("ErrMissingWebhook", func(t *testing.T) {
		cmd := domain.ScheduleDelivery{DeliveryID: "dlv_1", MessageID: "msg_1", AccountID: "acc_1", EventType: "x.y"}
		got, err := domain.DecideDelivery(givenDelivery(), cmd, dlvT0)
		thenRefused(t, got, err, domain.EINVALID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(), attempt(200), dlvT0)
		thenRefused(t, got, err, domain.ENOTFOUND)
	})
}

func TestDeliveryAttempts(t *testing.T) {
	at := dlvT0.Add(time.Second)
	attempted := func(n, code int) domain.DeliveryAttempted {
		return domain.DeliveryAttempted{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: n, At: at, StatusCode: code, LatencyMs: 42}
	}
	t.Run("Succeeded", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), attempt(200), at)
		thenAttempt(t, got, err, attempted(1, 200),
			domain.DeliverySucceeded{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 1, At: at})
		if s := givenDelivery(append([]eventstore.Event{scheduled(false)}, got...)...); s.Status != domain.DeliveryStatusSucceeded || s.Attempts != 1 || !s.NextAttemptAt.IsZero() {
			t.Fatalf("state %+v", s)
		}
	})
	t.Run("RetryScheduled", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), attempt(503), at)
		thenAttempt(t, got, err, attempted(1, 503),
			domain.DeliveryRetryScheduled{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 2, DueAt: at.Add(5 * time.Second), SlowDown: true, At: at})
		s := givenDelivery(append([]eventstore.Event{scheduled(false)}, got...)...)
		if s.Status != domain.DeliveryStatusRetrying || !s.NextAttemptAt.Equal(at.Add(5*time.Second)) || s.LastStatusCode != 503 {
			t.Fatalf("state %+v", s)
		}
	})
	t.Run("GoneDisablesWebhook", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), attempt(410), at)
		if err != nil || len(got) != 1 {
			t.Fatalf("%v %v", got, err)
		}
		outcome := got[0].(domain.DeliveryAttemptRecorded).Outcome()
		f, ok := outcome.(domain.DeliveryFailed)
		if !ok || !f.DisablesWebhook || f.Attempts != 1 || !strings.Contains(f.Reason, "410") {
			t.Fatalf("outcome %#v", outcome)
		}
	})
	t.Run("ExhaustedFails", func(t *testing.T) {
		history := []eventstore.Event{scheduled(false)}
		s := givenDelivery(history...)
		for range 10 {
			got, err := domain.DecideDelivery(s, attempt(500), at)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range got {
				s = domain.EvolveDelivery(s, e)
			}
		}
		if s.Status != domain.DeliveryStatusFailed || s.Attempts != 10 || !strings.Contains(s.FailureReason, "10 attempts") {
			t.Fatalf("after 10 failures: %+v", s)
		}
	})
	t.Run("TestDeliveryHasOneAttempt", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(true)), attempt(410), at)
		if err != nil || len(got) != 1 {
			t.Fatalf("%v %v", got, err)
		}
		if f, ok := got[0].(domain.DeliveryAttemptRecorded).Outcome().(domain.DeliveryFailed); !ok || f.DisablesWebhook || !f.Test {
			t.Fatalf("test delivery: %#v", got[0])
		}
		got, _ = domain.DecideDelivery(givenDelivery(scheduled(true)), attempt(500), at)
		if _, ok := got[0].(domain.DeliveryAttemptRecorded).Outcome().(domain.DeliveryFailed); !ok {
			t.Fatalf("test delivery retried: %#v", got[0])
		}
	})
	t.Run("ErrAttemptSucceeded", func(t *testing.T) {
		s := givenDelivery(scheduled(false), attempted(1, 200), domain.DeliverySucceeded{DeliveryID: "dlv_1", Attempt: 1, At: at})
		got, err := domain.DecideDelivery(s, attempt(200), at)
		thenRefused(t, got, err, domain.EINVALID)
	})
	t.Run("ErrAttemptFailed", func(t *testing.T) {
		s := givenDelivery(scheduled(false), domain.DeliveryFailed{DeliveryID: "dlv_1", Reason: "x", At: at})
		got, err := domain.DecideDelivery(s, attempt(200), at)
		thenRefused(t, got, err, domain.EINVALID)
	})
}

func TestDeliveryAttemptRecordIsBounded(t *testing.T) {
	body := strings.Repeat("é", domain.MaxResponseExcerpt) // 2 bytes each
	cmd := domain.RecordAttempt{
		Outcome:         domain.AttemptOutcome{ErrClass: domain.ErrClassTimeout},
		ErrorMessage:    strings.Repeat("x", 5000),
		ResponseExcerpt: append([]byte(body[:101]), 0xff, 0xfe),
		RequestHeaders: map[string]string{
			"Content-Type": "application/json", "Authorization": "Bearer s3cret", "X-Api-Key": "k",
			"X-Receiver-Token": "t", "webhook-signature": "v1,abc",
		},
	}
	got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), cmd, dlvT0)
	if err != nil {
		t.Fatal(err)
	}
	a := got[0].(domain.DeliveryAttemptRecorded).Attempted()
	if len(a.ErrorMessage) != domain.MaxErrorMessage || a.ErrorClass != domain.ErrClassTimeout {
		t.Errorf("error message %d bytes, class %q", len(a.ErrorMessage), a.ErrorClass)
	}
	if !utf8.ValidString(a.ResponseExcerpt) || !strings.HasPrefix(a.ResponseExcerpt, body[:100]) {
		t.Errorf("excerpt %q", a.ResponseExcerpt)
	}
	want := map[string]string{"Content-Type": "application/json", "Authorization": "[redacted]", "X-Api-Key": "[redacted]",
		"X-Receiver-Token": "[redacted]", "webhook-signature": "v1,abc"}
	if !reflect.DeepEqual(a.RequestHeaders, want) {
		t.Errorf("headers %v", a.RequestHeaders)
	}

	cmd.ResponseExcerpt = []byte(body)
	got, _ = domain.DecideDelivery(givenDelivery(scheduled(false)), cmd, dlvT0)
	ex := got[0].(domain.DeliveryAttemptRecorded).ResponseExcerpt
	if len(ex) > domain.MaxResponseExcerpt || len(ex) < domain.MaxResponseExcerpt-1 || !utf8.ValidString(ex) {
		t.Errorf("long excerpt: %d bytes, valid %v", len(ex), utf8.ValidString(ex))
	}
}

func TestDeliveryRedelivery(t *testing.T) {
	at := dlvT0.Add(time.Hour)
	failed := givenDelivery(scheduled(false),
		domain.DeliveryAttempted{DeliveryID: "dlv_1", Attempt: 1, StatusCode: 500, At: dlvT0},
		domain.DeliveryFailed{DeliveryID: "dlv_1", WebhookID: "wh_1", Reason: "HTTP 500", Attempts: 1, At: dlvT0})
	t.Run("OK", func(t *testing.T) {
		got, err := domain.DecideDelivery(failed, domain.RequestRedelivery{}, at)
		thenEvents(t, got, err, domain.DeliveryRedeliveryRequested{DeliveryID: "dlv_1", WebhookID: "wh_1", MessageID: "msg_1", AccountID: "acc_1", MessageType: "invoice.paid", DueAt: at, At: at})
		s := failed
		for _, e := range got {
			s = domain.EvolveDelivery(s, e)
		}
		if s.Status != domain.DeliveryStatusPending || s.RoundAttempts != 0 || s.Attempts != 1 || s.FailureReason != "" || !s.NextAttemptAt.Equal(at) {
			t.Fatalf("state %+v", s)
		}
		// The next attempt is numbered 2 but retried on a fresh schedule.
		got, err = domain.DecideDelivery(s, attempt(500), at)
		thenAttempt(t, got, err,
			domain.DeliveryAttempted{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 2, At: at, StatusCode: 500, LatencyMs: 42},
			domain.DeliveryRetryScheduled{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 3, DueAt: at.Add(5 * time.Second), At: at})
	})
	t.Run("ErrPending", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), domain.RequestRedelivery{}, at)
		thenRefused(t, got, err, domain.EINVALID)
	})
	t.Run("ErrRetrying", func(t *testing.T) {
		s := givenDelivery(scheduled(false), domain.DeliveryRetryScheduled{DeliveryID: "dlv_1", Attempt: 2, DueAt: at})
		got, err := domain.DecideDelivery(s, domain.RequestRedelivery{}, at)
		thenRefused(t, got, err, domain.EINVALID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(), domain.RequestRedelivery{}, at)
		thenRefused(t, got, err, domain.ENOTFOUND)
	})
}

func TestDeliveryAbandon(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), domain.AbandonDelivery{Reason: " webhook deleted "}, dlvT0)
		thenEvents(t, got, err, domain.DeliveryFailed{DeliveryID: "dlv_1", WebhookID: "wh_1", Reason: "webhook deleted", At: dlvT0})
	})
	t.Run("ErrNoReason", func(t *testing.T) {
		got, err := domain.DecideDelivery(givenDelivery(scheduled(false)), domain.AbandonDelivery{}, dlvT0)
		thenRefused(t, got, err, domain.EINVALID)
	})
	t.Run("ErrFinal", func(t *testing.T) {
		s := givenDelivery(scheduled(false), domain.DeliverySucceeded{DeliveryID: "dlv_1", Attempt: 1})
		got, err := domain.DecideDelivery(s, domain.AbandonDelivery{Reason: "x"}, dlvT0)
		thenRefused(t, got, err, domain.EINVALID)
	})
}
