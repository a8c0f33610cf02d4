package domain_test

import (
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/eventstore"
)

func TestFoldDelivery(t *testing.T) {
	at := dlvT0.Add(time.Second)
	retry := domain.DeliveryRetryScheduled{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 2, DueAt: at.Add(5 * time.Second), At: at}
	t.Run("Empty", func(t *testing.T) {
		if s := domain.FoldDelivery(nil); s.Exists() || s.Version != 0 || s.ExpectedRevision() != eventstore.NoStream {
			t.Fatalf("state %+v", s)
		}
	})
	t.Run("SameAsEvolvingOneByOne", func(t *testing.T) {
		// Given a scheduled delivery, when an attempt is recorded, then the
		// fold of the whole stream is the state the decision evolved to.
		history := []eventstore.Event{scheduled(false)}
		decided, err := domain.DecideDelivery(domain.FoldDelivery(history), attempt(503), at)
		if err != nil {
			t.Fatal(err)
		}
		s := domain.FoldDelivery(append(history, decided...))
		if s != givenDelivery(append(history, decided...)...) {
			t.Fatalf("fold %+v differs from evolving one by one", s)
		}
		if s.Status != domain.DeliveryStatusRetrying || s.Version != 2 || s.Attempts != 1 || !s.NextAttemptAt.Equal(at.Add(5*time.Second)) {
			t.Fatalf("state %+v", s)
		}
	})
	t.Run("LongStream", func(t *testing.T) {
		// Given 12,001 events (6,000 failed attempts), the fold counts them
		// all: the revision to append at is the stream's last.
		history := []eventstore.Event{scheduled(false)}
		for range 6000 {
			history = append(history, domain.DeliveryAttempted{DeliveryID: "dlv_1", WebhookID: "wh_1", At: at}, retry)
		}
		s := domain.FoldDelivery(history)
		if s.Version != 12001 || s.ExpectedRevision() != eventstore.Exact(12000) || s.RoundAttempts != 6000 || s.Status != domain.DeliveryStatusRetrying {
			t.Fatalf("state version %d, round attempts %d, status %s", s.Version, s.RoundAttempts, s.Status)
		}
	})
}

func TestDeliveryDue(t *testing.T) {
	at := dlvT0.Add(time.Second)
	next := at.Add(5 * time.Second)
	retrying := givenDelivery(scheduled(false),
		domain.DeliveryAttempted{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 1, StatusCode: 503, At: at},
		domain.DeliveryRetryScheduled{DeliveryID: "dlv_1", WebhookID: "wh_1", Attempt: 2, DueAt: next, At: at})
	for _, c := range []struct {
		name string
		s    domain.DeliveryState
		now  time.Time
		want bool
	}{
		{"PendingAtItsTime", givenDelivery(scheduled(false)), dlvT0, true},
		{"PendingBeforeItsTime", givenDelivery(scheduled(false)), dlvT0.Add(-time.Millisecond), false},
		{"RetryNotYetDue", retrying, next.Add(-time.Millisecond), false},
		{"RetryDue", retrying, next, true},
		{"RetryOverdue", retrying, next.Add(time.Hour), true},
		{"Succeeded", givenDelivery(scheduled(false), domain.DeliverySucceeded{DeliveryID: "dlv_1", Attempt: 1, At: at}), next, false},
		{"Failed", givenDelivery(scheduled(false), domain.DeliveryFailed{DeliveryID: "dlv_1", Reason: "x", At: at}), next, false},
		{"NotScheduled", givenDelivery(), next, false},
		{"Redelivered", givenDelivery(scheduled(false),
			domain.DeliveryFailed{DeliveryID: "dlv_1", Reason: "x", At: at},
			domain.DeliveryRedeliveryRequested{DeliveryID: "dlv_1", DueAt: next, At: next}), next, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.Due(c.now); got != c.want {
				t.Fatalf("Due(%s) = %v for %+v, want %v", c.now, got, c.s, c.want)
			}
		})
	}
}
