package domain

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/eventstore"
)

// decideAndFold applies a command to a state the way the application
// service does: decide, then fold the decided events in.
func decideAndFold(t *testing.T, s WebhookState, cmd WebhookCommand, now time.Time) WebhookState {
	t.Helper()
	events, err := DecideWebhook(s, cmd, now, nil)
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	for _, e := range events {
		s = EvolveWebhook(s, e)
	}
	return s
}

func TestWebhookLifecycle(t *testing.T) {
	s := decideAndFold(t, WebhookState{}, validCreate(t), t0)
	if s.Status != WebhookStatusActive || s.Verification.Status != VerificationUnverified || s.MaxConcurrency != 4 {
		t.Fatalf("after create: %+v", s)
	}
	if s.ReceivesDeliveries() {
		t.Fatal("an unverified webhook receives deliveries")
	}
	if !s.SubscribesTo("email.open") || s.SubscribesTo("email.click") {
		t.Fatalf("SubscribesTo disagrees with %v", s.EventTypes)
	}
	if s.Version != 1 || s.ExpectedRevision() != eventstore.Exact(0) {
		t.Fatalf("version %d, expected revision %v", s.Version, s.ExpectedRevision())
	}

	s = decideAndFold(t, s, RecordVerificationSucceeded{URL: s.URL, FileName: s.Verification.File.Name}, t0.Add(time.Minute))
	if !s.ReceivesDeliveries() || !s.Verification.At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after verification: %+v", s.Verification)
	}

	s = decideAndFold(t, s, PauseWebhook{}, t0.Add(2*time.Minute))
	if s.ReceivesDeliveries() || s.Status != WebhookStatusPaused {
		t.Fatalf("paused webhook: status %s, receives %v", s.Status, s.ReceivesDeliveries())
	}
	s = decideAndFold(t, s, ResumeWebhook{}, t0.Add(3*time.Minute))
	s = decideAndFold(t, s, DisableWebhook{Reason: "410 Gone"}, t0.Add(4*time.Minute))
	if s.Status != WebhookStatusDisabled || s.DisabledReason != "410 Gone" || s.ReceivesDeliveries() {
		t.Fatalf("disabled webhook: %s %q", s.Status, s.DisabledReason)
	}
	s = decideAndFold(t, s, EnableWebhook{}, t0.Add(5*time.Minute))
	if s.Status != WebhookStatusActive || s.DisabledReason != "" || !s.ReceivesDeliveries() {
		t.Fatalf("re-enabled webhook: %s %q", s.Status, s.DisabledReason)
	}
	s = decideAndFold(t, s, DeleteWebhook{}, t0.Add(6*time.Minute))
	if s.Exists() || s.Status != WebhookStatusDeleted || s.ReceivesDeliveries() {
		t.Fatalf("deleted webhook still exists: %s", s.Status)
	}
	if s.Version != 7 || !s.UpdatedAt.Equal(t0.Add(6*time.Minute)) || !s.CreatedAt.Equal(t0) {
		t.Fatalf("version %d, created %v, updated %v", s.Version, s.CreatedAt, s.UpdatedAt)
	}
}

func TestWebhookURLChangeResetsVerification(t *testing.T) {
	s := FoldWebhook([]eventstore.Event{created(t), WebhookVerified{WebhookID: "wh1", URL: created(t).URL, At: t0}})
	if !s.ReceivesDeliveries() {
		t.Fatal("given a verified webhook")
	}
	newFile := testFile(t, 7)
	s = decideAndFold(t, s, UpdateWebhook{URL: ptr("https://other.example.net/hook"), VerificationFile: newFile}, t0.Add(time.Hour))
	if s.URL != "https://other.example.net/hook" || s.Verification.Status != VerificationUnverified || s.Verification.File != newFile {
		t.Fatalf("after URL change: %s %+v", s.URL, s.Verification)
	}
	if s.ReceivesDeliveries() {
		t.Fatal("a webhook with an unproven new URL receives deliveries")
	}
	// A check that started before the change reports on the old file.
	_, err := DecideWebhook(s, RecordVerificationSucceeded{URL: created(t).URL, FileName: created(t).VerificationFile.Name}, t0, nil)
	if ErrorCode(err) != ECONFLICT {
		t.Fatalf("stale verification: %v", err)
	}
}

func TestWebhookIssueFileResetsVerification(t *testing.T) {
	s := FoldWebhook([]eventstore.Event{
		created(t),
		WebhookVerificationFailed{WebhookID: "wh1", URL: created(t).URL, Reason: "got 404", At: t0},
	})
	if s.Verification.Status != VerificationFailed || s.Verification.FailureReason != "got 404" {
		t.Fatalf("after failure: %+v", s.Verification)
	}
	s = decideAndFold(t, s, IssueVerificationFile{File: testFile(t, 5)}, t0.Add(time.Hour))
	if s.Verification.Status != VerificationUnverified || s.Verification.FailureReason != "" || s.Verification.File != testFile(t, 5) {
		t.Fatalf("after issuing a new file: %+v", s.Verification)
	}
}

func TestWebhookSecretRotationOverlap(t *testing.T) {
	s := FoldWebhook([]eventstore.Event{created(t)})
	if got := s.SigningSecrets(t0); !slices.Equal(got, []string{testSecret(1)}) {
		t.Fatalf("before rotation: %v", got)
	}
	rotatedAt := t0.Add(time.Hour)
	s = decideAndFold(t, s, RotateWebhookSecret{Secret: testSecret(2)}, rotatedAt)
	both := []string{testSecret(2), testSecret(1)}
	for _, tc := range []struct {
		name string
		at   time.Time
		want []string
	}{
		{"AtRotation", rotatedAt, both},
		{"JustBeforeExpiry", rotatedAt.Add(DefaultSecretOverlap - time.Nanosecond), both},
		{"AtExpiry", rotatedAt.Add(DefaultSecretOverlap), []string{testSecret(2)}},
		{"LongAfter", rotatedAt.Add(30 * 24 * time.Hour), []string{testSecret(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.SigningSecrets(tc.at); !slices.Equal(got, tc.want) {
				t.Fatalf("SigningSecrets = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("SecondRotationDropsOldest", func(t *testing.T) {
		s2 := decideAndFold(t, s, RotateWebhookSecret{Secret: testSecret(3), Overlap: time.Hour}, rotatedAt.Add(time.Minute))
		if got := s2.SigningSecrets(rotatedAt.Add(2 * time.Minute)); !slices.Equal(got, []string{testSecret(3), testSecret(2)}) {
			t.Fatalf("SigningSecrets = %v", got)
		}
		if _, err := DecideWebhook(s2, RotateWebhookSecret{Secret: testSecret(2)}, rotatedAt, nil); ErrorCode(err) != EINVALID {
			t.Fatalf("rotating back to the previous secret: %v", err)
		}
	})
	t.Run("RevokePrevious", func(t *testing.T) {
		s2 := decideAndFold(t, s, RotateWebhookSecret{Secret: testSecret(3), RevokePrevious: true}, rotatedAt)
		if got := s2.SigningSecrets(rotatedAt); !slices.Equal(got, []string{testSecret(3)}) {
			t.Fatalf("SigningSecrets = %v", got)
		}
	})
	t.Run("NeverCreated", func(t *testing.T) {
		if got := (WebhookState{}).SigningSecrets(t0); got != nil {
			t.Fatalf("SigningSecrets = %v", got)
		}
	})
}

func TestWebhookEvolveIsAValue(t *testing.T) {
	s := FoldWebhook([]eventstore.Event{created(t)})
	before := slices.Clone(s.EventTypes)
	events, err := DecideWebhook(s, UpdateWebhook{EventTypes: []string{"email.click"}, Headers: map[string]string{"X-New": "1"}}, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := EvolveWebhook(s, events[0])
	if !slices.Equal(s.EventTypes, before) || s.Headers["X-New"] != "" || len(s.Headers) != 1 {
		t.Fatalf("evolving changed the earlier state: %v %v", s.EventTypes, s.Headers)
	}
	if !slices.Equal(next.EventTypes, []string{"email.click"}) || next.Headers["X-New"] != "1" {
		t.Fatalf("next = %v %v", next.EventTypes, next.Headers)
	}
}

// unknownEvent stands for an event type added in a later version.
type unknownEvent struct{}

func (unknownEvent) EventType() string { return "webhook.future.v1" }

func TestWebhookEvolveCountsUnknownEvents(t *testing.T) {
	s := FoldWebhook([]eventstore.Event{created(t), unknownEvent{}})
	if s.Version != 2 || s.ExpectedRevision() != eventstore.Exact(1) || s.Name != "Order updates" {
		t.Fatalf("version %d, revision %v, name %q", s.Version, s.ExpectedRevision(), s.Name)
	}
	if (WebhookState{}).ExpectedRevision() != eventstore.NoStream {
		t.Fatal("a new webhook must be appended with NoStream")
	}
}

func TestWebhookVerificationFile(t *testing.T) {
	f := testFile(t, 0xab)
	if f.Name != "webhookd-"+strings.Repeat("ab", 16)+".txt" || f.Token != strings.Repeat("ab", 32) {
		t.Fatalf("file = %+v", f)
	}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	t.Run("NameAndTokenIndependent", func(t *testing.T) {
		b := append(bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32)...)
		f, err := NewVerificationFile(bytes.NewReader(b))
		if err != nil || strings.Contains(f.Name, f.Token) || f.Token != strings.Repeat("02", 32) {
			t.Fatalf("file = %+v, %v", f, err)
		}
	})
	t.Run("ErrShortReader", func(t *testing.T) {
		if _, err := NewVerificationFile(bytes.NewReader(make([]byte, 10))); err == nil {
			t.Fatal("a short read gave a file")
		}
	})
	t.Run("Matches", func(t *testing.T) {
		if !f.Matches([]byte(" " + f.Token + "\r\n")) {
			t.Error("trimmed token did not match")
		}
		if f.Matches([]byte(f.Token+"x")) || f.Matches(nil) || (VerificationFile{}).Matches(nil) {
			t.Error("wrong content matched")
		}
	})
	t.Run("Locations", func(t *testing.T) {
		for _, tc := range []struct {
			url  string
			want []string
		}{
			{"https://h.example.com/a/b/hook?x=1", []string{"https://h.example.com/a/b/" + f.Name, "https://h.example.com/" + f.Name}},
			{"https://h.example.com/hooks/", []string{"https://h.example.com/hooks/" + f.Name, "https://h.example.com/" + f.Name}},
			{"http://h.example.com:8080/hook", []string{"http://h.example.com:8080/" + f.Name}},
			{"https://h.example.com", []string{"https://h.example.com/" + f.Name}},
		} {
			got, err := VerificationFileLocations(tc.url, f)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("VerificationFileLocations(%q) = %v, %v; want %v", tc.url, got, err, tc.want)
			}
		}
		if _, err := VerificationFileLocations("ftp://x", f); ErrorCode(err) != EINVALID {
			t.Errorf("bad URL: %v", err)
		}
	})
}
