package domain

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"
)

// keysOf returns the sorted keys of a JSON object, and of its objects one
// level down under "name.key".
func keysOf(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, raw)
	}
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		var inner map[string]json.RawMessage
		if json.Unmarshal(v, &inner) == nil {
			for ik := range maps.Keys(inner) {
				keys = append(keys, k+"."+ik)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// TestOperationalSamplesMatchData holds every operational type's sample to
// the shape webhookd publishes, so a receiver written against the testing
// tool's sample reads real events.
func TestOperationalSamplesMatchData(t *testing.T) {
	t0 := time.Date(2024, 5, 14, 9, 0, 0, 0, time.UTC)
	w := WebhookState{ID: "wh_1", AccountID: "acme", Name: "Orders", URL: "https://hooks.example/x", Status: WebhookStatusActive,
		RateLimit: RateLimit{PerSecond: 5, Burst: 5}}
	d := DeliveryState{ID: "dlv_1", MessageID: "m1", WebhookID: "wh_1", EventType: "email.bounce", Status: DeliveryStatusFailed, Attempts: 10}
	failed, _ := DeliveryFailedMessage(w, d, DeliveryFailed{Reason: "HTTP 503", At: t0}, "k", func(string) bool { return false })
	msgs := []OperationalMessage{
		DisabledMessage(w, WebhookDisabled{WebhookID: "wh_1", Reason: "410", At: t0}, "k"),
		VerificationFailedMessage(w, WebhookVerificationFailed{WebhookID: "wh_1", Reason: "got 404", At: t0}, "k"),
		RecoveredMessage(w, t0, t0.Add(time.Hour), "k"),
		RateLimitedMessage(w, t0, t0.Add(time.Minute), "k"),
		failed,
	}
	cat := BuiltinCatalogue()
	var seen []string
	for _, m := range msgs {
		t.Run(m.Type, func(t *testing.T) {
			et, ok := cat.Lookup(m.Type)
			if !ok || !et.Operational {
				t.Fatalf("%s is not an operational type of the catalogue", m.Type)
			}
			pub, err := m.Published(t0)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := keysOf(t, pub.Data), keysOf(t, et.Sample); !slices.Equal(got, want) {
				t.Fatalf("data keys %v, sample keys %v", got, want)
			}
			if pub.AboutWebhookID != "wh_1" || pub.AccountID != "acme" || pub.MessageID != m.MessageID() {
				t.Fatalf("published %+v", pub)
			}
		})
		seen = append(seen, m.Type)
	}
	for _, et := range cat.All() {
		if et.Operational && !slices.Contains(seen, et.Name) {
			t.Errorf("operational type %s has no message builder checked here", et.Name)
		}
	}
}

func TestOperationalMessageID(t *testing.T) {
	a := OperationalMessage{Type: OpDeliveryFailed, Key: "evt-1"}
	if a.MessageID() != (OperationalMessage{Type: OpDeliveryFailed, Key: "evt-1", AccountID: "x"}).MessageID() {
		t.Fatal("the ID depends on more than type and key")
	}
	if a.MessageID() == (OperationalMessage{Type: OpDeliveryFailed, Key: "evt-2"}).MessageID() ||
		a.MessageID() == (OperationalMessage{Type: OpWebhookRecovered, Key: "evt-1"}).MessageID() {
		t.Fatal("different triggers share an ID")
	}
}

func TestDeliveryFailedMessageNoChains(t *testing.T) {
	w := WebhookState{ID: "wh_1", AccountID: "acme", Status: WebhookStatusActive}
	operational := func(t string) bool { return t == OpWebhookDisabled }
	for _, tc := range []struct {
		name string
		d    DeliveryState
		want bool
	}{
		{"Real", DeliveryState{EventType: "email.bounce"}, true},
		{"Test", DeliveryState{EventType: "email.bounce", Test: true}, false},
		{"OperationalDelivery", DeliveryState{EventType: OpWebhookDisabled}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := DeliveryFailedMessage(w, tc.d, DeliveryFailed{}, "k", operational); ok != tc.want {
				t.Fatalf("ok = %v, want %v", ok, tc.want)
			}
		})
	}
}

func TestReachesWebhook(t *testing.T) {
	m := MessagePublished{AboutWebhookID: "wh_1"}
	if m.ReachesWebhook("wh_1") || !m.ReachesWebhook("wh_2") {
		t.Fatal("an operational event must reach every webhook but the one it is about")
	}
	if !(MessagePublished{}).ReachesWebhook("wh_1") {
		t.Fatal("a publisher's message must reach every webhook")
	}
}

func TestHealthWatch(t *testing.T) {
	t0 := time.Date(2024, 5, 14, 9, 0, 0, 0, time.UTC)
	var h HealthWatch
	if _, rec := h.Succeeded("a"); rec {
		t.Fatal("a success without failures is no recovery")
	}
	if !h.Failed("a", t0) || h.Failed("a", t0.Add(time.Minute)) {
		t.Fatal("only the first failure of a streak changes the watch")
	}
	since, rec := h.Succeeded("a")
	if !rec || !since.Equal(t0) {
		t.Fatalf("Succeeded = %v, %v; want a recovery failing since the first failure", since, rec)
	}
	if _, rec := h.Succeeded("a"); rec {
		t.Fatal("the second success in a row is no recovery")
	}
	h.Failed("b", t0)
	if !h.Forget("b") {
		t.Fatal("Forget of a failing webhook changed nothing")
	}
	if _, rec := h.Succeeded("b"); rec {
		t.Fatal("a forgotten webhook recovered")
	}
}

// TestRateLimitWatch: limited webhooks are reported only when the
// limiting is sustained, and at most once per period.
func TestRateLimitWatch(t *testing.T) {
	t0 := time.Date(2024, 5, 14, 9, 0, 0, 0, time.UTC)
	type obs struct {
		at     time.Duration
		report bool
	}
	// every returns observations each step from from to to (inclusive),
	// reporting only at the listed offsets.
	every := func(step, from, to time.Duration, reports ...time.Duration) []obs {
		var out []obs
		for at := from; at <= to; at += step {
			out = append(out, obs{at, slices.Contains(reports, at)})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		obs  []obs
	}{
		{"BriefNotReported", every(time.Second, 0, 59*time.Second)},
		{"SustainedReportedOnce", every(time.Second, 0, 10*time.Minute, time.Minute)},
		{"GapRestartsTheStreak", append(every(time.Second, 0, 50*time.Second),
			every(time.Second, 50*time.Second+11*time.Second, 2*time.Minute+time.Second, 2*time.Minute+time.Second)...)},
		{"ShortBreaksKeepTheStreak", every(9*time.Second, 0, 72*time.Second, 63*time.Second)},
		{"AgainAfterThePeriod", every(5*time.Second, 0, time.Hour+2*time.Minute, time.Minute, time.Hour+time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewRateLimitWatch()
			for _, o := range tc.obs {
				if got, _ := w.Limited("wh", t0.Add(o.at)); got != o.report {
					t.Fatalf("at +%s: report = %v, want %v", o.at, got, o.report)
				}
			}
		})
	}
	t.Run("PerWebhook", func(t *testing.T) {
		w := NewRateLimitWatch()
		for s := time.Duration(0); s <= time.Minute; s += time.Second {
			w.Limited("a", t0.Add(s))
		}
		if got, _ := w.Limited("b", t0.Add(time.Minute)); got {
			t.Fatal("b was reported on a's streak")
		}
	})
	t.Run("ForgetsEndedStreaks", func(t *testing.T) {
		w := NewRateLimitWatch()
		w.Limited("a", t0)
		w.Limited("b", t0.Add(2*time.Hour))
		if w.Len() != 1 {
			t.Fatalf("watch holds %d webhooks, want only the one limited lately", w.Len())
		}
	})
	t.Run("KeyPerPeriod", func(t *testing.T) {
		w := NewRateLimitWatch()
		if w.RateLimitKey("a", t0) != w.RateLimitKey("a", t0.Add(59*time.Minute)) || w.RateLimitKey("a", t0) == w.RateLimitKey("a", t0.Add(time.Hour)) {
			t.Fatal("a report's key must name the webhook and the clock's period")
		}
	})
}
