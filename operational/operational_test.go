package operational_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/webhookd/webhookd/domain"
	"github.com/webhookd/webhookd/internal/gqltest"
	"github.com/webhookd/webhookd/internal/testenv"
)

// shortRetry makes a failing delivery give up after two attempts about a
// second apart.
var shortRetry = map[string]any{"retryPolicy": map[string]any{"schedule": "CUSTOM", "delaysSeconds": []int{1}}}

// checkData fails unless every delivery's data has its sample's keys.
func checkData(t *testing.T, ds []received) {
	t.Helper()
	for _, d := range ds {
		if got, want := keysOf(t, d.Data), sampleKeys(t, d.Type); !slices.Equal(got, want) {
			t.Errorf("%s data keys %v, sample keys %v: %s", d.Type, got, want, d.Data)
		}
	}
}

// TestOperationalEvents: each operational event reaches another webhook of
// the account that subscribes to it, with the documented data, and never
// the webhook it is about, though that one subscribes too.
func TestOperationalEvents(t *testing.T) {
	r := newRig(t, gqltest.Options{})
	// Sustained means a second here, so the test need not wait a minute;
	// the rule itself is TestRateLimitWatch's (domain).
	r.srv.Env.Core.RateLimits.Watch.Sustain = time.Second
	aboutRc, opsRc, otherRc := testenv.NewReceiver(t), testenv.NewReceiver(t), testenv.NewReceiver(t)
	about := r.webhook(t, aboutRc, "/about", append([]string{"email.bounce"}, opsTypes...), shortRetry, true)
	r.webhook(t, opsRc, "/ops", opsTypes, nil, true)
	r.srv.Env.StartDispatcher(t)

	t.Run("DeliveryFailed", func(t *testing.T) {
		aboutRc.Respond(http.StatusInternalServerError, 0)
		msg := r.publish(t, "email.bounce")[0]["messageId"]
		got := waitOps(t, opsRc, domain.OpDeliveryFailed, about.ID, 1)
		checkData(t, got)
		var data struct {
			Delivery domain.OperationalDelivery `json:"delivery"`
			Reason   string                     `json:"reason"`
		}
		mustUnmarshal(t, got[0].Data, &data)
		if data.Delivery.MessageID != msg || data.Delivery.EventType != "email.bounce" || data.Delivery.Attempts != 2 || data.Reason == "" {
			t.Fatalf("delivery.failed data %s, want message %v after 2 attempts", got[0].Data, msg)
		}
	})
	t.Run("Recovered", func(t *testing.T) {
		aboutRc.Respond(http.StatusOK, 0)
		r.publish(t, "email.bounce")
		got := waitOps(t, opsRc, domain.OpWebhookRecovered, about.ID, 1)
		checkData(t, got)
		// A second success in a row is no recovery.
		r.publish(t, "email.bounce")
		aboutRc.WaitFor(t, 4, 10*time.Second)
	})
	t.Run("VerificationFailed", func(t *testing.T) {
		v := r.webhook(t, otherRc, "/unproven", opsTypes, nil, false)
		if ok, _ := r.verify(t, v.ID); ok {
			t.Fatal("verified without a file")
		}
		got := waitOps(t, opsRc, domain.OpWebhookVerificationFailed, v.ID, 1)
		checkData(t, got)
	})
	t.Run("RateLimited", func(t *testing.T) {
		limited := r.webhook(t, otherRc, "/limited", []string{"email.open"}, map[string]any{"rateLimit": map[string]any{"perSecond": 1, "burst": 1}}, true)
		for range 4 {
			r.publish(t, "email.open")
		}
		got := waitOps(t, opsRc, domain.OpWebhookRateLimited, limited.ID, 1)
		checkData(t, got)
		// Limited for the rest of the backlog, it is not reported again
		// within the hour.
		waitPosts(t, otherRc, "/limited", 4)
		sentinel(t, r, otherRc, opsRc)
		if n := len(aboutOf(deliveries(t, opsRc, domain.OpWebhookRateLimited), limited.ID)); n != 1 {
			t.Fatalf("%d webhook.rate_limited about one limited stretch, want 1", n)
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		// The webhook subscribes to operational types too: what it still
		// owes (the sentinels' webhook.verification_failed) must be
		// answered before it starts answering 410, or the 410 goes to one
		// of those and the bounce below is never attempted.
		waitNothingOwed(t, r, about.ID)
		aboutRc.Respond(http.StatusGone, 0)
		r.publish(t, "email.bounce")
		got := waitOps(t, opsRc, domain.OpWebhookDisabled, about.ID, 1)
		checkData(t, got)
		// The delivery the 410 ended failed too. The two messages are
		// delivered concurrently, in either order.
		checkData(t, waitOps(t, opsRc, domain.OpDeliveryFailed, about.ID, 2))
	})
	t.Run("NeverToTheWebhookItIsAbout", func(t *testing.T) {
		sentinel(t, r, otherRc, opsRc)
		for _, d := range deliveries(t, aboutRc, opsTypes...) {
			if d.about() == about.ID {
				t.Errorf("the webhook received %s about itself", d.Type)
			}
		}
		// Two deliveries failed (schedule exhausted, then 410 Gone); it
		// recovered once and was disabled once.
		for typ, want := range map[string]int{domain.OpDeliveryFailed: 2, domain.OpWebhookRecovered: 1, domain.OpWebhookDisabled: 1} {
			if n := len(aboutOf(deliveries(t, opsRc, typ), about.ID)); n != want {
				t.Errorf("%d %s about the webhook, want %d", n, typ, want)
			}
		}
	})
}

// TestOperationalEventsOnceAcrossRebuildRestartAndReplay: a rebuild of the
// read models publishes nothing, a restart on the same files resumes where
// it stopped, and a reactor replaying the whole log (as after a crash
// between publishing and saving its checkpoint) publishes nothing twice.
func TestOperationalEventsOnceAcrossRebuildRestartAndReplay(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, gqltest.Options{Env: testenv.Options{Dir: dir}})
	opsRc, otherRc := testenv.NewReceiver(t), testenv.NewReceiver(t)
	r.webhook(t, opsRc, "/ops", opsTypes, nil, true)
	r.srv.Env.StartDispatcher(t)
	first := sentinel(t, r, otherRc, opsRc)

	if err := r.srv.Env.Runner.Rebuild(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	second := sentinel(t, r, otherRc, opsRc)
	if n := countOperationalMessages(t, r.srv.Env); n != 2 {
		t.Fatalf("%d operational messages in the log after a rebuild, want 2", n)
	}

	if err := r.srv.Env.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := r.reopen(t, dir)
	r2.srv.Env.StartDispatcher(t)
	third := sentinel(t, r2, otherRc, opsRc)
	if n := countOperationalMessages(t, r2.srv.Env); n != 3 {
		t.Fatalf("%d operational messages in the log after a restart, want 3", n)
	}

	replayAll(t, r2.srv.Env)
	if n := countOperationalMessages(t, r2.srv.Env); n != 3 {
		t.Fatalf("%d operational messages in the log after replaying it, want 3", n)
	}
	fourth := sentinel(t, r2, otherRc, opsRc)
	for _, id := range []string{first, second, third, fourth} {
		if n := len(aboutOf(deliveries(t, opsRc, domain.OpWebhookVerificationFailed), id)); n != 1 {
			t.Errorf("webhook %s: %d verification_failed deliveries, want 1", id, n)
		}
	}
}

// TestFailedOperationalDeliveryReportsNothing: when the delivery of an
// operational event fails for good, no delivery.failed follows it.
func TestFailedOperationalDeliveryReportsNothing(t *testing.T) {
	r := newRig(t, gqltest.Options{})
	failingRc, opsRc, otherRc := testenv.NewReceiver(t), testenv.NewReceiver(t), testenv.NewReceiver(t)
	failing := r.webhook(t, failingRc, "/failing", opsTypes, shortRetry, true)
	r.webhook(t, opsRc, "/ops", opsTypes, nil, true)
	r.srv.Env.StartDispatcher(t)
	failingRc.Respond(http.StatusInternalServerError, 0)

	sentinel(t, r, otherRc, opsRc)
	waitFailed(t, r, failing.ID)
	sentinel(t, r, otherRc, opsRc)
	if got := deliveries(t, opsRc, domain.OpDeliveryFailed); len(got) != 0 {
		t.Fatalf("a failed operational delivery was reported: %s", got[0].Data)
	}
}
